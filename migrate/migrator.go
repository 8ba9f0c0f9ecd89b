package migrate

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/golang-migrate/migrate/v4/database"
	"github.com/golang-migrate/migrate/v4/source"
	"github.com/relkit/relkit/migrate/internal/dbdriver"
)

// Migrator runs the migrations of one file system against one database.
// It holds no connection: each method opens its own, separate from any pool
// the application uses, and closes it before returning. A Migrator is safe
// for concurrent use; the database lock serializes runs, across processes
// too.
type Migrator struct {
	migrations []Migration
	src        source.Driver // reads down files when a rollback needs them
	url        string
	drv        *dbdriver.Driver
	opts       Options
}

// New returns a Migrator for the migrations at the root of fsys (see [List]
// for the file rules) and the database at databaseURL. It checks the files
// and that a driver for the URL's scheme is linked in, but does not connect.
// Errors are [*FilesError] and [*URLError]; neither ever contains the URL,
// which may hold a password.
func New(fsys fs.FS, databaseURL string, opts Options) (*Migrator, error) {
	drv, err := lookup(databaseURL)
	if err != nil {
		return nil, err
	}
	ms, src, err := load(fsys, false)
	if err != nil {
		return nil, err
	}
	return &Migrator{migrations: ms, src: src, url: databaseURL, drv: drv, opts: opts.withDefaults()}, nil
}

// Migrations returns the binary's migrations, sorted by version.
func (m *Migrator) Migrations() []Migration {
	return append([]Migration(nil), m.migrations...)
}

// Latest returns the version of the binary's newest migration, NilVersion
// when it has none.
func (m *Migrator) Latest() int { return m.latest() }

// Engine names the database engine: "PostgreSQL", "MySQL", "SQLite".
func (m *Migrator) Engine() string { return m.drv.Engine }

// lookup finds the registered driver for rawURL's scheme.
func lookup(rawURL string) (*dbdriver.Driver, error) {
	scheme, _, ok := strings.Cut(rawURL, "://")
	if !ok || scheme == "" || strings.ContainsAny(scheme, "/@:?") {
		return nil, &URLError{}
	}
	scheme = strings.ToLower(scheme)
	if d, ok := dbdriver.Lookup(scheme); ok {
		return d, nil
	}
	return nil, &URLError{Scheme: scheme, Import: Drivers[scheme]}
}

// urlError turns a driver's complaint about the URL into a *URLError, nil
// for other errors.
func urlError(rawURL string, err error) error {
	var be *dbdriver.BadURLError
	if !errors.As(err, &be) {
		return nil
	}
	scheme, _, _ := strings.Cut(rawURL, "://")
	return &URLError{Scheme: strings.ToLower(scheme), Reason: be.Error()}
}

// latest is the binary's newest version, NilVersion without migrations.
func (m *Migrator) latest() int {
	if len(m.migrations) == 0 {
		return NilVersion
	}
	return int(m.migrations[len(m.migrations)-1].Version)
}

func (m *Migrator) find(v int) *Migration {
	for i := range m.migrations {
		if int(m.migrations[i].Version) == v {
			return &m.migrations[i]
		}
	}
	return nil
}

// previous returns the version of the binary's migration before v.
func (m *Migrator) previous(v uint) int {
	p := NilVersion
	for _, x := range m.migrations {
		if x.Version >= v {
			break
		}
		p = int(x.Version)
	}
	return p
}

// connect opens a session without taking the lock, for read-only commands.
func (m *Migrator) connect(ctx context.Context) (dbdriver.Session, error) {
	cctx, cancel := context.WithTimeout(ctx, m.opts.LockTimeout)
	defer cancel()
	return m.dial(ctx, cctx)
}

// dial connects within cctx (LockTimeout, derived from ctx). A database
// that refuses or is not ready yet (starting up, a name not yet in DNS) is
// tried again, each failed attempt logged, until cctx is done: a job
// started together with its database waits for it. A URL, password or
// database the server rejects fails at once.
func (m *Migrator) dial(ctx, cctx context.Context) (dbdriver.Session, error) {
	wait := 100 * time.Millisecond
	var last error // the last transient failure
	for attempt := 1; ; attempt++ {
		s, err := m.drv.Connect(cctx, m.url)
		if err == nil {
			if attempt > 1 {
				m.opts.Logger.Info("connected to the database", "engine", m.drv.Engine, "attempt", attempt)
			}
			return s, nil
		}
		if ue := urlError(m.url, err); ue != nil {
			return nil, ue
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w while connecting to %s: %w", ErrInterrupted, m.drv.Engine, ctx.Err())
		}
		if cctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
			return nil, &connectTimeout{engine: m.drv.Engine, timeout: m.opts.LockTimeout, attempts: attempt, last: last}
		}
		if !m.transient(err) {
			return nil, fmt.Errorf("migrate: connect to %s: %w", m.drv.Engine, err)
		}
		last = err
		left := time.Until(deadline(cctx))
		m.opts.Logger.Warn("database not reachable yet; retrying", "engine", m.drv.Engine, "attempt", attempt,
			"err", err.Error(), "retry_in", min(wait, left).Round(time.Millisecond), "gives_up_in", left.Round(time.Millisecond))
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-cctx.Done():
			t.Stop()
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%w while connecting to %s: %w", ErrInterrupted, m.drv.Engine, ctx.Err())
			}
			return nil, &connectTimeout{engine: m.drv.Engine, timeout: m.opts.LockTimeout, attempts: attempt, last: err}
		}
		wait = min(wait*2, 2*time.Second)
	}
}

func deadline(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

// transient reports whether a failed connection is worth trying again:
// the network says nobody listens (yet), or the engine says it is not
// ready.
func (m *Migrator) transient(err error) bool {
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, driver.ErrBadConn):
		return true
	}
	return m.drv.Transient != nil && m.drv.Transient(err)
}

// locked is a session holding the migration lock.
type locked struct {
	s       dbdriver.Session
	gm      database.Driver
	dialect dbdriver.Dialect
}

// lock opens a session and takes the migration lock, both within
// LockTimeout. The caller must call unlock.
func (m *Migrator) lock(ctx context.Context) (*locked, error) {
	lctx, cancel := context.WithTimeout(ctx, m.opts.LockTimeout)
	defer cancel()
	s, err := m.dial(ctx, lctx)
	if err != nil {
		return nil, err
	}
	if err := s.Lock(lctx); err != nil {
		// Closing the session ends it on the server, and with it any lock
		// granted after the deadline fired (golang-migrate #269).
		s.Close()
		switch {
		case ctx.Err() != nil:
			return nil, fmt.Errorf("%w while waiting for the migration lock: %w", ErrInterrupted, ctx.Err())
		case errors.Is(err, dbdriver.ErrLockTimeout):
			detail := strings.TrimPrefix(strings.TrimPrefix(err.Error(), dbdriver.ErrLockTimeout.Error()), ": ")
			return nil, lockTimeout(m.drv.Engine, m.opts.LockTimeout, detail)
		case lctx.Err() != nil:
			return nil, lockTimeout(m.drv.Engine, m.opts.LockTimeout, "")
		}
		return nil, fmt.Errorf("migrate: take the migration lock on %s: %w", m.drv.Engine, err)
	}
	return &locked{s: s, dialect: s.Dialect()}, nil
}

// lockState takes the migration lock and reads the database's state. The
// caller must call unlock; on error nothing is left locked.
func (m *Migrator) lockState(ctx context.Context) (*locked, state, error) {
	l, err := m.lock(ctx)
	if err != nil {
		return nil, state{}, err
	}
	st, err := readState(ctx, l.s.DB(), l.dialect)
	if err != nil {
		m.unlock(ctx, l)
		return nil, state{}, fmt.Errorf("migrate: %w", err)
	}
	return l, st, nil
}

// prepare binds golang-migrate's driver to the locked session (creating
// schema_migrations if needed) and creates relkit's history table: what
// every write needs. Runs that find nothing to do skip it.
func (m *Migrator) prepare(ctx context.Context, l *locked) error {
	if l.gm != nil {
		return nil
	}
	gm, err := l.s.Migrator(ctx)
	if err != nil {
		return fmt.Errorf("migrate: prepare the schema_migrations table on %s: %w", m.drv.Engine, err)
	}
	if _, err := l.s.DB().ExecContext(ctx, l.dialect.CreateHistory); err != nil {
		return fmt.Errorf("migrate: create the %s table on %s: %w", historyTable, m.drv.Engine, err)
	}
	l.gm = gm
	return nil
}

// unlock releases the lock and closes the session, even when ctx is done.
func (m *Migrator) unlock(ctx context.Context, l *locked) {
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := l.s.Unlock(uctx); err != nil {
		m.opts.Logger.Debug("release the migration lock (closing the connection releases it)", "err", err)
	}
	l.s.Close()
}
