package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit/testdb"
)

// unit is the [Service] section of a systemd unit file.
type unit map[string][]string

// parseUnit reads the keys of a unit's [Service] section in order.
func parseUnit(t *testing.T, file string) unit {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	u := unit{}
	section := ""
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			section = line
		case section == "[Service]":
			k, v, _ := strings.Cut(line, "=")
			u[k] = append(u[k], v)
		}
	}
	return u
}

func (u unit) one(t *testing.T, key string) string {
	t.Helper()
	if len(u[key]) != 1 {
		t.Fatalf("unit: want one %s=, got %q", key, u[key])
	}
	return u[key][0]
}

// readEnvironmentFile parses a file the way systemd's EnvironmentFile=
// does for what the generated instructions write: KEY=VALUE lines, '#'
// and ';' comment lines, blank lines, whitespace around the key and
// before the value dropped, a value in matching double or single quotes
// unquoted (backslash escapes inside double quotes).
func readEnvironmentFile(t *testing.T, file string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for n, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s:%d: systemd ignores a line without '=': %q", file, n+1, line)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			q := v[0]
			v = v[1 : len(v)-1]
			if q == '"' {
				v = strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\$`, `$`).Replace(v)
			}
		}
		env[k] = v
	}
	return env
}

// serviceProcess prepares a unit's ExecStart= the way systemd starts it:
// a fresh environment (PATH, and HOME, USER, LOGNAME and SHELL of User=),
// then Environment=, then EnvironmentFile= (which wins, in systemd as
// here), run as User= and Group= in WorkingDirectory=. The sandboxing
// options are systemd's own and are not reproduced.
func serviceProcess(t *testing.T, u unit, extra ...string) *exec.Cmd {
	t.Helper()
	acct, err := user.Lookup(u.one(t, "User"))
	if err != nil {
		t.Fatal(err)
	}
	grp, err := user.LookupGroup(u.one(t, "Group"))
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(acct.Uid)
	gid, _ := strconv.Atoi(grp.Gid)
	env := map[string]string{
		"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin",
		"HOME": acct.HomeDir, "USER": acct.Username, "LOGNAME": acct.Username, "SHELL": "/usr/sbin/nologin",
	}
	for _, assignments := range u["Environment"] {
		for _, kv := range strings.Fields(assignments) {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
	}
	for _, f := range u["EnvironmentFile"] {
		optional := strings.HasPrefix(f, "-")
		f = strings.TrimPrefix(f, "-")
		if _, err := os.Stat(f); err != nil && optional {
			continue
		}
		for k, v := range readEnvironmentFile(t, f) {
			env[k] = v
		}
	}
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	argv := strings.Fields(u.one(t, "ExecStart"))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = u.one(t, "WorkingDirectory")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	return cmd
}

// serviceUser is the system user the test's units run as, created by the
// install instructions' own useradd line.
const serviceUser = "relkitnotes"

// TestSystemdUnitsRunForReal installs the notes app (two required
// variables of its own, one secret) as the header of the generated
// notes.service says, copying its commands as written and only filling in
// the placeholders; migrates through notes-migrate.service's command
// against PostgreSQL; starts notes.service's ExecStart= with the unit's
// environment applied as systemd applies it, waits for READY=1 on
// NOTIFY_SOCKET, and checks that the release's own releases/VSN/env sets
// PORT (the unit sets no defaults that would override it).
func TestSystemdUnitsRunForReal(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("systemd units are for Linux")
	}
	analyze := needTool(t, "systemd-analyze")
	needRoot(t, "creating the service user and running the units as it")
	needTool(t, "useradd")
	dbURL := testdb.Postgres(t)

	// Paths the service user can reach: t.TempDir's directories are 0700.
	base := t.TempDir()
	for p := base; p != os.TempDir() && p != "/"; p = filepath.Dir(p) {
		os.Chmod(p, 0o755)
	}
	root := filepath.Join(base, "opt", "notes")
	envFile := filepath.Join(base, "etc", "notes", "notes.env")
	units := filepath.Join(base, "units")
	out := filepath.Join(base, "build")
	mustRelkit(t, "build", "-tar", "-o", out, notesPkg)
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	tarball := filepath.Join(out, "notes-1.4.0-"+runtime.GOOS+"-"+runtime.GOARCH+".tar.gz")
	if b, err := exec.Command("tar", "-xzf", tarball, "-C", root).CombinedOutput(); err != nil {
		t.Fatalf("unpack: %v\n%s", err, b)
	}
	mustRelkit(t, "gen", "systemd", "-root", root, "-user", serviceUser, "-env-file", envFile, "-o", units, notesPkg)

	// The install instructions, as written, up to what needs systemd as
	// PID 1 (copying the units into /etc/systemd/system and systemctl).
	service, err := os.ReadFile(filepath.Join(units, "notes.service"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := user.Lookup(serviceUser); err == nil {
		t.Fatalf("user %s exists already (left by an earlier run?): remove it with userdel %s", serviceUser, serviceUser)
	}
	t.Cleanup(func() { exec.Command("userdel", serviceUser).Run() })
	filled := strings.NewReplacer(
		"'postgres://USER:PASSWORD@HOST:5432/DATABASE'", "'"+dbURL+"'",
		"NOTES_API_TOKEN='...'", "NOTES_API_TOKEN='tok-123'",
		"NOTES_ADMIN_EMAIL='...'", "NOTES_ADMIN_EMAIL='admin@example.com'",
	)
	var ran []string
	for _, line := range strings.Split(string(service), "\n") {
		cmdline, ok := strings.CutPrefix(line, "#   ")
		if !ok || strings.HasPrefix(cmdline, "systemctl") || strings.Contains(cmdline, "/etc/systemd/system") {
			continue
		}
		cmdline = filled.Replace(cmdline)
		if strings.Contains(cmdline, "'...'") {
			t.Fatalf("an instruction has a placeholder this test does not know how to fill: %s", cmdline)
		}
		if b, err := exec.Command("sh", "-ec", cmdline).CombinedOutput(); err != nil {
			t.Fatalf("install instruction %q: %v\n%s", cmdline, err, b)
		}
		ran = append(ran, cmdline)
	}
	if len(ran) < 5 || !strings.HasPrefix(ran[0], "useradd ") {
		t.Fatalf("want the install instructions to start with useradd and write the environment file, ran %q", ran)
	}
	if info, err := os.Stat(envFile); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("%s: want mode 0600, got %v", envFile, err)
	}

	cmd := exec.Command(analyze, "verify", filepath.Join(units, "notes.service"), filepath.Join(units, "notes-migrate.service"))
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_COLOR=0")
	if b, err := cmd.CombinedOutput(); err != nil || len(strings.TrimSpace(string(b))) > 0 {
		t.Fatalf("systemd-analyze verify: want exit 0 and no messages, got %v:\n%s", err, b)
	}

	// systemctl start notes-migrate.service
	migrateUnit := parseUnit(t, filepath.Join(units, "notes-migrate.service"))
	if migrateUnit.one(t, "Type") != "oneshot" {
		t.Errorf("notes-migrate.service: want Type=oneshot, got %s", migrateUnit.one(t, "Type"))
	}
	if b, err := serviceProcess(t, migrateUnit).CombinedOutput(); err != nil {
		t.Fatalf("notes-migrate.service's %s: %v\n%s", migrateUnit.one(t, "ExecStart"), err, b)
	}
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows int
	if err := db.QueryRow("SELECT count(*) FROM notes").Scan(&rows); err != nil {
		t.Fatalf("after the migrate unit: want table notes, got %v", err)
	}

	// The release's own env file chooses the port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if err := os.WriteFile(filepath.Join(root, "releases", "1.4.0", "env"), []byte(fmt.Sprintf("PORT=%d\n", port)), 0o644); err != nil {
		t.Fatal(err)
	}

	// systemctl start notes.service: Type=notify, so systemd waits for
	// READY=1 on NOTIFY_SOCKET.
	serviceUnit := parseUnit(t, filepath.Join(units, "notes.service"))
	if serviceUnit.one(t, "Type") != "notify" {
		t.Fatalf("notes.service: want Type=notify, got %s", serviceUnit.one(t, "Type"))
	}
	sockDir := filepath.Join(base, "notify")
	if err := os.Mkdir(sockDir, 0o755); err != nil {
		t.Fatal(err)
	}
	notifyPath := filepath.Join(sockDir, "notify.sock")
	notify, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notifyPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer notify.Close()
	os.Chmod(notifyPath, 0o777)
	svc := serviceProcess(t, serviceUnit, "NOTIFY_SOCKET="+notifyPath)
	pr, pw := io.Pipe()
	svc.Stdout, svc.Stderr = pw, pw
	var logs strings.Builder
	logged := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
		}
		close(logged)
	}()
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- svc.Wait(); pw.Close() }()
	defer func() {
		if svc.ProcessState == nil {
			svc.Process.Kill()
		}
	}()
	readyCh := make(chan error, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			notify.SetReadDeadline(time.Now().Add(60 * time.Second))
			n, _, err := notify.ReadFromUnix(buf)
			if err != nil {
				readyCh <- err
				return
			}
			for _, l := range strings.Split(string(buf[:n]), "\n") {
				if l == "READY=1" {
					readyCh <- nil
					return
				}
			}
		}
	}()
	select {
	case err := <-readyCh:
		if err != nil {
			t.Fatalf("no READY=1 from notes.service: %v", err)
		}
	case err := <-exited:
		<-logged
		t.Fatalf("notes.service's ExecStart exited before READY=1: %v\n%s", err, logs.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("http://127.0.0.1:%d/", port), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET / on the port releases/1.4.0/env sets (%d): %v", port, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "notes 1.4.0 for admin@example.com\n"; string(body) != want {
		t.Errorf("GET /: want %q, got %d %q", want, resp.StatusCode, body)
	}

	// systemctl stop: KillMode=mixed sends SIGTERM to the main process.
	svc.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			<-logged
			t.Errorf("after SIGTERM: want exit 0, got %v\n%s", err, logs.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("notes.service did not stop within 60s of SIGTERM")
	}
}
