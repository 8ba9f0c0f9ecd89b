package upgradetest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/sdnotify"
	"github.com/relkit/relkit/internal/testkit"
)

// notifications collects what a service manager would receive on
// NOTIFY_SOCKET.
type notifications struct {
	path string
	mu   sync.Mutex
	msgs []string
}

func listenNotify(t *testing.T) *notifications {
	t.Helper()
	recv, err := sdnotify.Listen(filepath.Join(testkit.ShortTempDir(t), "notify"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); recv.Close() })
	n := &notifications{path: recv.Path()}
	go func() {
		for {
			msg, err := recv.Receive(ctx)
			if err != nil {
				return
			}
			n.mu.Lock()
			n.msgs = append(n.msgs, strings.Join(msg, " "))
			n.mu.Unlock()
		}
	}()
	return n
}

// waitFor waits until a message starting with prefix arrived after the
// first `after` messages, and returns how many had arrived then.
func (n *notifications) waitFor(t *testing.T, after int, prefix string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		n.mu.Lock()
		for i := after; i < len(n.msgs); i++ {
			if strings.HasPrefix(n.msgs[i], prefix) {
				n.mu.Unlock()
				return i + 1
			}
		}
		n.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	t.Fatalf("no notification starting with %q after the first %d; got %q", prefix, after, n.msgs)
	return 0
}

// TestUpgradeAndDowngrade is the operator's path: hello 1.0.0 runs in the
// foreground, 2.0.0 (built separately) is copied next to it and upgraded
// to, then downgraded from; the port, the PID systemd knows and the
// socket's non-blocking mode stay, and systemd hears of each switch.
func TestUpgradeAndDowngrade(t *testing.T) {
	t.Parallel()
	v1, v2 := helloV1.get(t), helloV2.get(t)
	n := listenNotify(t)
	s := install(t, "hello", v1, "NOTIFY_SOCKET="+n.path)
	s.start()
	pid := s.pid()
	seen := n.waitFor(t, 0, fmt.Sprintf("READY=1 MAINPID=%d STATUS=hello 1.0.0 serving", pid))
	if got := s.body("/"); got != "Hello from hello 1.0.0\n" {
		t.Fatalf("GET / before the upgrade: want hello 1.0.0, got %q", got)
	}
	s.checkNonblocking("1.0.0 running")

	s.put("2.0.0", v2)
	if want, got := "Unpacked release 2.0.0\nInstalled release 2.0.0\nMade release 2.0.0 permanent\n", s.mustRun("upgrade", "2.0.0"); want != got {
		t.Errorf("upgrade 2.0.0: want %q, got %q", want, got)
	}
	if got := s.body("/"); got != "Hello from hello 2.0.0\n" {
		t.Errorf("GET / on the same port after the upgrade: want hello 2.0.0, got %q", got)
	}
	if got := s.mustRun("pid"); got != fmt.Sprintf("%d\n", pid) {
		t.Errorf("pid after the upgrade: want %d (start's, unchanged), got %q", pid, got)
	}
	select {
	case <-s.done:
		t.Fatalf("start exited during the upgrade: %v", s.err)
	default:
	}
	if want, got := []string{"1.0.0 old", "2.0.0 permanent"}, s.stateLines(); !slices.Equal(want, got) {
		t.Errorf("RELEASES after the upgrade: want %q, got %q", want, got)
	}
	if target, err := os.Readlink(s.bin()); err != nil || target != "../releases/2.0.0/hello" {
		t.Errorf("bin/hello after the upgrade: want -> ../releases/2.0.0/hello, got %q (%v)", target, err)
	}
	s.checkNonblocking("after the upgrade")
	seen = n.waitFor(t, seen, "RELOADING=1 MONOTONIC_USEC=")
	n.waitFor(t, seen-1, "RELOADING=1 MONOTONIC_USEC=") // the same message carries the status:
	n.mu.Lock()
	reloading := n.msgs[seen-1]
	n.mu.Unlock()
	if !strings.HasSuffix(reloading, "STATUS=switching from 1.0.0 to 2.0.0") {
		t.Errorf("systemd at the switch: want RELOADING=1 with STATUS=switching from 1.0.0 to 2.0.0, got %q", reloading)
	}
	seen = n.waitFor(t, seen, fmt.Sprintf("READY=1 MAINPID=%d STATUS=hello 2.0.0 serving", pid))

	want := fmt.Sprintf("VERSION  STATE      RUNNING  MIGRATION  BUILT\n"+
		"1.0.0    old                 -          2023-11-14 22:13:20Z\n"+
		"2.0.0    permanent  yes      -          2023-11-14 22:13:20Z\n"+
		"hello 2.0.0 runs (pid %d).\n"+
		"signatures: releases are not signature-checked (no release.App.TrustedKeys)\n", pid)
	if got := s.mustRun("releases"); got != want {
		t.Errorf("releases:\nwant %q\ngot  %q", want, got)
	}

	if want, got := "Installed release 1.0.0\nMade release 1.0.0 permanent\n", s.mustRun("downgrade", "1.0.0"); want != got {
		t.Errorf("downgrade 1.0.0: want %q, got %q", want, got)
	}
	if got := s.body("/"); got != "Hello from hello 1.0.0\n" {
		t.Errorf("GET / after the downgrade: want hello 1.0.0, got %q", got)
	}
	if got := s.mustRun("pid"); got != fmt.Sprintf("%d\n", pid) {
		t.Errorf("pid after the downgrade: want %d, got %q", pid, got)
	}
	if want, got := []string{"1.0.0 permanent", "2.0.0 old"}, s.stateLines(); !slices.Equal(want, got) {
		t.Errorf("RELEASES after the downgrade: want %q, got %q", want, got)
	}
	s.checkNonblocking("after the downgrade")
	n.waitFor(t, seen, fmt.Sprintf("READY=1 MAINPID=%d STATUS=hello 1.0.0 serving", pid))

	if code, stdout, stderr := s.run("downgrade", "1.0.0"); code != 0 || stdout != "1.0.0 is running already; nothing to do\n" {
		t.Errorf("downgrade to the running release: want exit 0 saying so, got %d %q %q", code, stdout, stderr)
	}
	if code, _, stderr := s.run("downgrade", "0.9.0"); code != 1 || !strings.Contains(stderr, "release 0.9.0: ") || !strings.Contains(stderr, "unpack the release first") {
		t.Errorf("downgrade to a release not installed: want exit 1 saying so, got %d %q", code, stderr)
	}
	if code, _, stderr := s.run("upgrade"); code != 64 || stderr != "Error: upgrade needs the version to switch to\nTry: hello upgrade 1.1.0\n" {
		t.Errorf("upgrade without a version: want exit 64 and the usage error, got %d %q", code, stderr)
	}

	took, err := s.stop()
	if err != nil {
		t.Errorf("start after SIGTERM: want exit 0, got %v; log:\n%s", err, s.logs)
	}
	if took > 5*time.Second {
		t.Errorf("stop took %v, longer than SHUTDOWN_TIMEOUT (5s)", took)
	}
}

// TestFailedUpgradeKeepsTheRunningRelease: a 2.0.0 that crashes at boot
// leaves 1.0.0 serving and the root as it was, so a fixed 2.0.0 can be
// upgraded to afterwards.
func TestFailedUpgradeKeepsTheRunningRelease(t *testing.T) {
	t.Parallel()
	v1, bad, good := helloV1.get(t), crashV2.get(t), helloV2.get(t)
	s := install(t, "hello", v1)
	s.start()
	s.put("2.0.0", bad)
	before := s.snapshot()

	code, stdout, stderr := s.run("upgrade", "2.0.0")
	if code != 1 {
		t.Fatalf("upgrade to a release that crashes at boot: want exit 1, got %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if stdout != "Unpacked release 2.0.0\n" {
		t.Errorf("stdout: want only the unpack step, got %q", stdout)
	}
	for _, want := range []string{
		"Error: upgrade to 2.0.0 failed: the app did not become ready: generation 2 exited with status 2 before it was ready; generation 1 (release 1.0.0) keeps serving\n",
		"Last lines of release 2.0.0's output:\n",
		"assignment to entry in nil map",
		"Removed the unpacked release 2.0.0; " + filepath.Join(s.root, "releases", "RELEASES") + " is as before",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr: want %q in\n%s", want, stderr)
		}
	}
	if got := s.body("/"); got != "Hello from hello 1.0.0\n" {
		t.Errorf("after the failed upgrade: want hello 1.0.0 serving, got %q", got)
	}
	if d := testkit.Diff(before, s.snapshot()); d != "" {
		t.Errorf("the failed upgrade changed the root:\n%s", d)
	}
	if hist := s.mustRun("releases", "-history"); !strings.Contains(hist, "\t1.0.0\t2.0.0\tupgrade failed: ") {
		t.Errorf("releases -history: want the failed upgrade's line, got:\n%s", hist)
	}

	s.put("2.0.0", good) // the fixed build of the same version
	if want, got := "Unpacked release 2.0.0\nInstalled release 2.0.0\nMade release 2.0.0 permanent\n", s.mustRun("upgrade", "2.0.0"); want != got {
		t.Errorf("upgrade to the fixed 2.0.0: want %q, got %q", want, got)
	}
	if got := s.body("/"); got != "Hello from hello 2.0.0\n" {
		t.Errorf("after the good upgrade: want hello 2.0.0, got %q", got)
	}
}

// TestEnvFileAndStopAfterAFailedUpgrade: the new release reads its own
// releases/VSN/env at the upgrade; one it cannot boot with fails the
// upgrade without changing anything, SIGTERM then stops the system within
// SHUTDOWN_TIMEOUT, and a corrected file is read at the next attempt.
func TestEnvFileAndStopAfterAFailedUpgrade(t *testing.T) {
	t.Parallel()
	v1, v2 := helloV1.get(t), helloV2.get(t)
	s := install(t, "hello", v1)
	s.start()
	s.put("2.0.0", v2)
	env := filepath.Join(s.root, "releases", "2.0.0", "env")
	if err := os.WriteFile(env, []byte("# configuration of 2.0.0\nLOG_LEVEL=chatty\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := s.snapshot()
	code, _, stderr := s.run("upgrade", "2.0.0")
	if code != 1 || !strings.Contains(stderr, "exited with status 78 before it was ready") || !strings.Contains(stderr, "LOG_LEVEL") {
		t.Errorf("upgrade to a release whose env file is invalid: want exit 1 showing its configuration error, got %d %q", code, stderr)
	}
	if d := testkit.Diff(before, s.snapshot()); d != "" {
		t.Errorf("the failed upgrade changed the root (the env file and the tarball must stay):\n%s", d)
	}
	took, err := s.stop()
	if err != nil {
		t.Errorf("start after SIGTERM: want exit 0, got %v; log:\n%s", err, s.logs)
	}
	if took > 5*time.Second {
		t.Errorf("stop after a failed upgrade took %v, longer than SHUTDOWN_TIMEOUT (5s)", took)
	}

	if err := os.WriteFile(env, []byte("LOG_LEVEL=debug\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.start()
	s.mustRun("upgrade", "2.0.0")
	if got := s.body("/"); got != "Hello from hello 2.0.0\n" {
		t.Errorf("after the upgrade: want hello 2.0.0, got %q", got)
	}
	if !logHasLine(s.logs.String(), `"level":"DEBUG","msg":"control socket ready"`, `"app":"hello"`, `"generation":2`) {
		t.Errorf("2.0.0 must log at LOG_LEVEL=debug from its env file; log:\n%s", s.logs)
	}
}

// TestBadTarballsAreRefused: a damaged tarball, one that does not match
// its checksum, and one with a path that climbs out of the release are
// refused before anything is changed, and the running release keeps
// serving.
func TestBadTarballsAreRefused(t *testing.T) {
	t.Parallel()
	v1, v2 := helloV1.get(t), helloV2.get(t)
	s := install(t, "hello", v1)
	s.start()
	good, err := os.ReadFile(v2)
	if err != nil {
		t.Fatal(err)
	}
	dir := testkit.ShortTempDir(t)
	name := filepath.Base(v2)
	tests := []struct {
		name    string
		make    func(t *testing.T, file string)
		wantErr string
	}{
		{"corrupted", func(t *testing.T, file string) {
			bad := bytes.Clone(good)
			for i := len(bad) / 3; i < len(bad)/3+64; i++ {
				bad[i] ^= 0xff
			}
			testkit.WriteWithChecksum(t, file, bad, bad)
		}, "cannot be read as a gzip-compressed tar"},
		{"bad checksum", func(t *testing.T, file string) {
			testkit.WriteWithChecksum(t, file, good, []byte("another build"))
		}, "does not match its checksum: " + filepath.Join(dir, "bad checksum", name) + " has SHA-256"},
		{"path traversal", func(t *testing.T, file string) {
			tgz := testkit.TarGz(t, []testkit.TarEntry{{Name: "releases/"}, {Name: "releases/2.0.0/"}, {Name: "releases/2.0.0/../../../escaped", Body: "pwned"}})
			testkit.WriteWithChecksum(t, file, tgz, tgz)
		}, `entry "releases/2.0.0/../../../escaped" climbs out of the release with ".."`},
	}
	for _, tt := range tests {
		file := filepath.Join(dir, tt.name, name)
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		tt.make(t, file)
		before := s.snapshot()
		code, stdout, stderr := s.run("upgrade", "2.0.0", "-tarball", file)
		if code != 1 || stdout != "" || !strings.Contains(stderr, tt.wantErr) {
			t.Errorf("%s: want exit 1, no step done and %q, got %d %q %q", tt.name, tt.wantErr, code, stdout, stderr)
		}
		if d := testkit.Diff(before, s.snapshot()); d != "" {
			t.Errorf("%s: the refused upgrade changed the root:\n%s", tt.name, d)
		}
		if got := s.body("/"); got != "Hello from hello 1.0.0\n" {
			t.Errorf("%s: want hello 1.0.0 still serving, got %q", tt.name, got)
		}
	}
	for _, p := range []string{filepath.Join(filepath.Dir(s.root), "escaped"), filepath.Join(s.root, "escaped")} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("the path-traversal tarball wrote %s", p)
		}
	}
}

// TestStateHandoff: counter's in-memory count survives an upgrade and a
// restart; a downgrade to a release that cannot read the newer state
// format fails, and the running release keeps its count.
func TestStateHandoff(t *testing.T) {
	t.Parallel()
	v1, v2 := counterV1.get(t), counterV2.get(t)
	s := install(t, "counter", v1)
	s.start()
	post := func(n int) {
		t.Helper()
		for range n {
			resp, err := httpClient.Post(fmt.Sprintf("http://127.0.0.1:%d/", s.port), "text/plain", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	post(5)
	if got := s.body("/"); got != "counter 1.0.0 count=5\n" {
		t.Fatalf("before the upgrade: want count=5, got %q", got)
	}
	s.put("2.0.0", v2)
	s.mustRun("upgrade", "2.0.0")
	if got := s.body("/"); got != "counter 2.0.0 count=5\n" {
		t.Errorf("after the upgrade: want 2.0.0 with the count handed over (5), got %q", got)
	}
	post(2)
	if got := s.mustRun("restart"); !strings.HasPrefix(got, "counter restarted") {
		t.Errorf("restart: got %q", got)
	}
	if got := s.body("/"); got != "counter 2.0.0 count=7\n" {
		t.Errorf("after a restart: want the count handed over (7), got %q", got)
	}

	before := s.snapshot()
	code, _, stderr := s.run("downgrade", "1.0.0")
	if code != 1 || !strings.Contains(stderr, "handoff: Handoff.Import of 1 bytes in format 2: state format 2 is newer than this release reads (1)") {
		t.Errorf("downgrade to a release that cannot read the state: want exit 1 with Import's error, got %d %q", code, stderr)
	}
	if got := s.body("/"); got != "counter 2.0.0 count=7\n" {
		t.Errorf("after the refused downgrade: want 2.0.0 serving its count, got %q", got)
	}
	if d := testkit.Diff(before, s.snapshot()); d != "" {
		t.Errorf("the failed downgrade changed the root:\n%s", d)
	}
}

// TestPID1 runs start as PID 1 of a new PID namespace, as in a container:
// an orphan it inherits is reaped, an upgrade works from inside the
// namespace (as docker exec runs it), and SIGTERM from outside stops it.
func TestPID1(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"unshare", "nsenter", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	if out, err := exec.Command("unshare", "-p", "-f", "--mount-proc", "true").CombinedOutput(); err != nil {
		t.Skipf("cannot create a PID namespace here (unshare: %v: %s)", err, out)
	}
	v1, v2 := helloV1.get(t), helloV2.get(t)
	s := install(t, "hello", v1)
	// sh starts an orphan-to-be, then becomes hello: the sleep is hello's
	// child from then on, and nobody but hello can reap it.
	s.start("unshare", "-p", "-f", "--mount-proc", "sh", "-c", `sleep 0.3 & exec "$0" "$@"`)
	var pid1 int
	if cs := children(s.pid()); len(cs) == 1 {
		pid1 = cs[0]
	} else {
		t.Fatalf("unshare's children: want one (hello), got %v", cs)
	}
	if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid1)); !strings.Contains(string(b), "NSpid:\t"+strconv.Itoa(pid1)+"\t1\n") {
		t.Fatalf("hello (pid %d) is not PID 1 of its namespace:\n%s", pid1, b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		zombies, sleeping := 0, 0
		for _, c := range children(pid1) {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c))
			_, after, _ := strings.Cut(string(b), ") ")
			if strings.HasPrefix(after, "Z") {
				zombies++
			}
			if strings.Contains(string(b), "(sleep)") {
				sleeping++
			}
		}
		if zombies == 0 && sleeping == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hello as PID 1 left %d zombie(s) (%d sleep still a child) 10s later", zombies, sleeping)
		}
		time.Sleep(50 * time.Millisecond)
	}

	s.put("2.0.0", v2)
	cmd := exec.Command("nsenter", "-t", strconv.Itoa(pid1), "-p", "-m", "--", s.bin(), "upgrade", "2.0.0")
	cmd.Env = s.env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("upgrade inside the namespace: %v\n%s\nlog:\n%s", err, out, s.logs)
	}
	if got := s.body("/"); got != "Hello from hello 2.0.0\n" {
		t.Errorf("after the upgrade: want hello 2.0.0, got %q", got)
	}

	// docker stop: SIGTERM to PID 1 from outside.
	began := time.Now()
	if err := syscall.Kill(pid1, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("PID 1 did not stop within 20s of SIGTERM; log:\n%s", s.logs)
	}
	if s.err != nil || time.Since(began) > 5*time.Second {
		t.Errorf("SIGTERM to PID 1: want exit 0 within SHUTDOWN_TIMEOUT, got %v after %v; log:\n%s", s.err, time.Since(began), s.logs)
	}
	if !logHasLine(s.logs.String(), `"msg":"stopping: draining requests"`, `"app":"hello"`, `"reason":"received terminated"`) {
		t.Errorf("the app must receive SIGTERM and drain; log:\n%s", s.logs)
	}
}

// TestUpgradeOfADaemon: the detached supervisor of daemon switches
// releases the same way, and releases tells when nothing runs.
func TestUpgradeOfADaemon(t *testing.T) {
	t.Parallel()
	v1, v2 := helloV1.get(t), helloV2.get(t)
	s := install(t, "hello", v1)
	t.Cleanup(func() { s.run("stop") })
	if out := s.mustRun("daemon"); !strings.HasPrefix(out, "hello 1.0.0 started (pid ") {
		t.Fatalf("daemon: got %q", out)
	}
	pid := s.mustRun("pid")
	s.put("2.0.0", v2)
	s.mustRun("upgrade", "2.0.0")
	if got := s.body("/"); got != "Hello from hello 2.0.0\n" {
		t.Errorf("after upgrading the daemon: want hello 2.0.0, got %q", got)
	}
	if got := s.mustRun("pid"); got != pid {
		t.Errorf("pid after the upgrade: want %s, got %s", pid, got)
	}
	s.mustRun("stop")
	want := "VERSION  STATE      RUNNING  MIGRATION  BUILT\n" +
		"1.0.0    old                 -          2023-11-14 22:13:20Z\n" +
		"2.0.0    permanent           -          2023-11-14 22:13:20Z\n" +
		"hello is not running.\n" +
		"signatures: releases are not signature-checked (no release.App.TrustedKeys)\n"
	if got := s.mustRun("releases"); got != want {
		t.Errorf("releases of a stopped system:\nwant %q\ngot  %q", want, got)
	}
	if code, _, stderr := s.run("upgrade", "1.0.0"); code != 1 || !strings.Contains(stderr, "upgrade switches a running system: start it first") {
		t.Errorf("upgrade of a stopped system: want exit 1 saying to start it, got %d %q", code, stderr)
	}
}
