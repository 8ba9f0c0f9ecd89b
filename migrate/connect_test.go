package migrate_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit"
	"github.com/relkit/relkit/internal/testkit/testdb"
	"github.com/relkit/relkit/migrate"
)

// freePort returns a loopback address nothing listens on: connecting to
// it is refused.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// proxy listens on addr and forwards every connection to target, until
// the test ends.
func proxy(t *testing.T, addr, target string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s (the port was taken meanwhile): %v", addr, err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				s, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer s.Close()
				go io.Copy(s, c)
				io.Copy(c, s)
			}()
		}
	}()
}

// A migration started before its database is up (a job started with its
// database) waits for it, within the lock timeout, logging each attempt,
// and then migrates.
func TestUpWaitsForTheDatabaseToComeUp(t *testing.T) {
	t.Parallel()
	for _, e := range testdb.Engines() {
		if e.Name == "sqlite" {
			continue
		}
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			real := e.New(t)
			u, _ := url.Parse(real)
			target := u.Host
			addr := freePort(t)
			u.Host = addr
			log := &testkit.Buffer{}
			m := newMigrator(t, items(), u.String(), migrate.Options{LockTimeout: 30 * time.Second, Logger: textLogger(log)})
			done := make(chan error, 1)
			go func() { _, err := m.Up(ctxT(t)); done <- err }()

			// Bring the database up once the run has been refused once.
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for !strings.Contains(log.String(), "attempt=1 ") {
				select {
				case err := <-done:
					t.Fatalf("Up against a database that is not up yet returned at once: %v\nlog:\n%s", err, log)
				case <-tick.C:
				}
			}
			proxy(t, addr, target)
			if err := <-done; err != nil {
				t.Fatalf("Up once the database came up: %v\nlog:\n%s", err, log)
			}
			if !strings.Contains(log.String(), "level=WARN msg=\"database not reachable yet; retrying\"") || !strings.Contains(log.String(), "connection refused") {
				t.Errorf("the attempts were not logged with their error:\n%s", log)
			}
			if n := count(t, openDB(t, real), "SELECT COUNT(*) FROM relkit_migrations"); n != 3 {
				t.Errorf("%d migrations recorded, want 3", n)
			}
		})
	}
}

// A database that never comes up fails with ErrLockTimeout once the lock
// timeout is spent, saying how often it tried and why it failed, without
// the password.
func TestConnectRefusedUntilTheLockTimeout(t *testing.T) {
	t.Parallel()
	addr := freePort(t)
	for _, raw := range []string{
		"postgres://u:secret@" + addr + "/db?sslmode=disable",
		"mysql://u:secret@" + addr + "/db",
	} {
		t.Run(testdb.Scheme(raw), func(t *testing.T) {
			t.Parallel()
			log := &testkit.Buffer{}
			m := newMigrator(t, items(), raw, migrate.Options{LockTimeout: 700 * time.Millisecond, Logger: textLogger(log)})
			for name, f := range map[string]func(context.Context) error{
				"Up":     func(ctx context.Context) error { _, err := m.Up(ctx); return err },
				"Status": func(ctx context.Context) error { _, err := m.Status(ctx); return err },
			} {
				start := time.Now()
				err := f(ctxT(t))
				took := time.Since(start)
				if !errors.Is(err, migrate.ErrLockTimeout) {
					t.Fatalf("%s against a refused port = %v, want ErrLockTimeout", name, err)
				}
				if took < 700*time.Millisecond {
					t.Errorf("%s gave up after %v, before the lock timeout (700ms)", name, took)
				}
				msg := err.Error()
				for _, want := range []string{"could not connect to " + m.Engine() + " within 700ms", "attempts", "connection refused", "Nothing was changed"} {
					if !strings.Contains(msg, want) {
						t.Errorf("%s error lacks %q:\n%s", name, want, msg)
					}
				}
				if strings.Contains(msg, "secret") || strings.Contains(log.String(), "secret") {
					t.Errorf("%s shows the password:\n%s\n%s", name, msg, log)
				}
			}
		})
	}
}

// A wrong password is not worth waiting for: it fails at once.
func TestConnectAuthFailureIsNotRetried(t *testing.T) {
	t.Parallel()
	raw := testdb.Postgres(t)
	u, _ := url.Parse(raw)
	u.User = url.UserPassword("relkit_no_such_user", "secret")
	log := &testkit.Buffer{}
	m := newMigrator(t, items(), u.String(), migrate.Options{LockTimeout: 20 * time.Second, Logger: textLogger(log)})
	start := time.Now()
	_, err := m.Up(ctxT(t))
	if err == nil || errors.Is(err, migrate.ErrLockTimeout) {
		t.Fatalf("Up as an unknown user = %v, want the server's refusal", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Up as an unknown user took %v: it was retried", took)
	}
	if strings.Contains(log.String(), "retrying") || strings.Contains(err.Error(), "secret") {
		t.Errorf("retried, or shows the password: %v\n%s", err, log)
	}
}

// cutProxy forwards connections to target, and cuts the client's side of
// the one whose traffic to the server contains marker right after
// forwarding it: the server runs what it got, the client never hears back.
func cutProxy(t *testing.T, target, marker string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				s, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer s.Close()
				go io.Copy(c, s)
				buf := make([]byte, 64<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						s.Write(buf[:n])
						if strings.Contains(string(buf[:n]), marker) {
							c.Close()
							// Keep the server's side open until it has run
							// the query: it closes when it sees EOF.
							s.(*net.TCPConn).CloseWrite()
							io.Copy(io.Discard, s)
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// When the connection is lost while PostgreSQL runs a file, nobody knows
// at once whether it committed; since the file and its record commit
// together, the error says to run migrate again, and that applies the file
// exactly once whichever way it went.
func TestConnectionLostDuringAFile(t *testing.T) {
	t.Parallel()
	real := testdb.Postgres(t)
	u, _ := url.Parse(real)
	fsys := killFiles("postgres", "quick")
	fsys["2_double.up.sql"].Data = append([]byte("-- cut here\n"), fsys["2_double.up.sql"].Data...)
	first := files("1_create_acct.up.sql", string(fsys["1_create_acct.up.sql"].Data))
	if _, err := newMigrator(t, first, real, migrate.Options{}).Up(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	u.Host = cutProxy(t, u.Host, "-- cut here")
	_, err := newMigrator(t, fsys, u.String(), migrate.Options{Command: "links"}).Up(ctxT(t))
	var fe *migrate.FailedError
	if !errors.As(err, &fe) || !fe.Lost {
		t.Fatalf("Up with the connection cut during the file = %v, want a *FailedError with Lost", err)
	}
	want := "2_double.up.sql ran in one transaction with its record, so either both are in the database or neither is. Run\n\tlinks migrate\nagain once the database is reachable: it applies 2_double only if it is not applied."
	if !strings.HasPrefix(err.Error(), "migrate: lost the connection to PostgreSQL while 2_double.up.sql ran: ") || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("message:\n%v", err)
	}
	db := openDB(t, real)
	run(t, newMigrator(t, fsys, real, migrate.Options{Command: "links"}), "migrate")
	if got := readEffects(t, db); got != (effects{bal: 200, audit: 1}) {
		t.Errorf("after running migrate again: balance %d and %d audit rows, want 200 and 1", got.bal, got.audit)
	}
}
