package fleettest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit"
	"github.com/relkit/relkit/internal/testkit/testdb"
)

// moduleRoot is the relkit module's root, three levels above this package.
var moduleRoot = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}()

const appPkg = "./internal/testkit/fleettest/testdata/fleetapp"

// TestFleet deploys fleetapp to three hosts with the playbook `relkit gen
// ansible` writes, run by the real ansible-playbook over ssh, behind
// haproxy, with one PostgreSQL database shared by the hosts:
//
//   - first install of 1.0.0 on three fresh hosts;
//   - rolling upgrade to 2.0.0 (with migration 002, which its handler
//     uses) under load through haproxy: 0 failed requests, the migration
//     run once, before any host switched;
//   - 2.0.1 with a bad variable in its env file: pre-flight fails, the
//     playbook exits non-zero, no host switched;
//   - 2.0.2, never ready: only the canary tried, it keeps serving 2.0.0
//     and is back in haproxy, the other hosts untouched, non-zero exit;
//   - 1.0.0, never ready on h2 only, with app_rollback_on_failure: the
//     canary switched and is switched back, 0 failed requests;
//   - downgrade to 1.0.0 under load: 0 failed requests;
//   - a re-run: changed=0 on every host;
//   - prune with app_keep=1: exactly the newest release plus the permanent
//     and previous ones are left.
//
// It needs root (namespaces, sshd) and installs its Debian packages
// itself; RELKIT_FLEET=1 runs it (.ci/run does), as it takes minutes.
func TestFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("the fleet test takes minutes: not with -short")
	}
	if os.Getenv("RELKIT_FLEET") != "1" {
		t.Skip("set RELKIT_FLEET=1 to run the fleet test (network namespaces, sshd, haproxy, Ansible; needs root; .ci/run runs it)")
	}
	if os.Geteuid() != 0 {
		testkit.Unavailable(t, "the fleet test needs root (network namespaces, sshd)")
	}
	needPackages(t)
	databaseURL := testdb.Postgres(t)

	base := testkit.ShortTempDir(t)
	artifacts := filepath.Join(base, "artifacts")
	relkit := buildTool(t, base)
	buildReleases(t, relkit, artifacts, []release{{"1.0.0", ""}, {"2.0.0", "v2"}, {"2.0.1", "v2"}, {"2.0.2", "v2,notready"}})

	f := newFleet(t, 3, databaseURL)
	deploy := filepath.Join(f.base, "deploy")
	gen := exec.Command(relkit, "gen", "ansible", "-o", deploy, appPkg)
	gen.Dir = moduleRoot
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("relkit gen ansible: %v\n%s", err, out)
	}
	f.writeAnsibleConfig(artifacts)
	var bench []benchRow

	t.Run("first install", func(t *testing.T) {
		res := f.playbook(t, "1.0.0")
		res.mustSucceed(t)
		f.wantRunning(t, "1.0.0", f.hosts...)
		if n := res.changedOn("Migrate with the binary of"); len(n) != 1 {
			t.Errorf("migrate: want it changed on one host, got %v", n)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := f.waitLB(ctx); err != nil {
			t.Fatal(err)
		}
	})
	if t.Failed() {
		return
	}

	t.Run("upgrade under load", func(t *testing.T) {
		res, l, row := f.underLoad(t, "2.0.0")
		res.mustSucceed(t)
		bench = append(bench, row)
		f.wantRunning(t, "2.0.0", f.hosts...)
		wantNoFailures(t, l, "1.0.0", "2.0.0")
		migrated := res.changedOn("Migrate with the binary of")
		if len(migrated) != 1 {
			t.Errorf("migrate: want it run on exactly one host, got %v", migrated)
		}
		if first := res.firstStart("Switch to"); !res.lastEnd("Migrate with the binary of").Before(first) {
			t.Errorf("the migration ended at %v, after the first switch started (%v)", res.lastEnd("Migrate with the binary of"), first)
		}
		if v := f.hosts[0].releases(t).DatabaseVersion; v == nil || *v != 2 {
			t.Errorf("database version after the upgrade: want 2, got %v", v)
		}
	})
	if t.Failed() {
		return
	}

	t.Run("bad configuration stops before any switch", func(t *testing.T) {
		res := f.playbook(t, "2.0.1", "-e", `{"app_env_extra": {"LOG_LEVEL": "chatty"}}`)
		if res.rc == 0 {
			t.Fatalf("a 2.0.1 with LOG_LEVEL=chatty: want a non-zero exit, got 0\n%s", res.log)
		}
		failed := res.failedOn("Check the configuration (config)")
		if len(failed) != len(f.hosts) {
			t.Errorf("pre-flight: want it failed on every host, got %v", failed)
		}
		for h, r := range res.results("Check the configuration (config)") {
			if rc, _ := r["rc"].(float64); rc != 78 {
				t.Errorf("%s: config exited %v, want 78", h, r["rc"])
			}
		}
		if ran := res.ranOn("Switch to"); len(ran) != 0 {
			t.Errorf("want no switch anywhere, got one on %v", ran)
		}
		f.wantRunning(t, "2.0.0", f.hosts...)
	})

	t.Run("canary never ready", func(t *testing.T) {
		res, l, _ := f.underLoad(t, "2.0.2")
		if res.rc == 0 {
			t.Fatalf("2.0.2 is never ready: want a non-zero exit, got 0\n%s", res.log)
		}
		if ran := res.ranOn("Switch to"); !slices.Equal(ran, []string{"h1"}) {
			t.Errorf("want only the canary h1 tried, got %v", ran)
		}
		if failed := res.failedOn("Switch to"); !slices.Equal(failed, []string{"h1"}) {
			t.Errorf("want the switch failed on h1, got %v", failed)
		}
		f.wantRunning(t, "2.0.0", f.hosts...)
		wantNoFailures(t, l, "2.0.0")
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := f.waitLB(ctx); err != nil {
			t.Errorf("after the failed canary: %v", err)
		}
	})
	if t.Failed() {
		return
	}

	t.Run("rollback of the switched hosts", func(t *testing.T) {
		// 1.0.0 is never ready on h2 alone: the canary h1 switches, h2
		// fails, and with app_rollback_on_failure h1 goes back to 2.0.0.
		hv := filepath.Join(f.base, "ansible", "host_vars")
		if err := os.MkdirAll(hv, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(hv, "h2.yml"), []byte("app_env_extra: {FLEETAPP_NEVER_READY: \"true\"}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		res, l, _ := f.underLoad(t, "1.0.0", "-e", "app_rollback_on_failure=true")
		if err := os.Remove(filepath.Join(hv, "h2.yml")); err != nil {
			t.Fatal(err)
		}
		if res.rc == 0 {
			t.Fatalf("1.0.0 never ready on h2: want a non-zero exit, got 0\n%s", res.log)
		}
		if ran := res.ranOn("Switch to"); !slices.Equal(ran, []string{"h1", "h2"}) {
			t.Errorf("want the switch tried on h1 and h2, got %v", ran)
		}
		if rolled := res.changedOn("Roll back the hosts this run switched"); !slices.Equal(rolled, []string{"h2"}) {
			t.Errorf("want h2's rescue to roll back (delegated to h1), got a change on %v", rolled)
		}
		f.wantRunning(t, "2.0.0", f.hosts...)
		wantNoFailures(t, l, "2.0.0")
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := f.waitLB(ctx); err != nil {
			t.Errorf("after the rollback: %v", err)
		}
	})
	if t.Failed() {
		return
	}

	t.Run("downgrade under load", func(t *testing.T) {
		res, l, row := f.underLoad(t, "1.0.0")
		res.mustSucceed(t)
		bench = append(bench, row)
		f.wantRunning(t, "1.0.0", f.hosts...)
		wantNoFailures(t, l, "1.0.0", "2.0.0")
		if m := res.ranOn("Migrate with the binary of"); len(m) != 0 {
			t.Errorf("a downgrade migrates nothing, got a migration on %v", m)
		}
	})
	if t.Failed() {
		return
	}

	t.Run("re-run changes nothing", func(t *testing.T) {
		res := f.playbook(t, "1.0.0")
		res.mustSucceed(t)
		for _, h := range f.hosts {
			if s := res.out.Stats[h.name]; s.Changed != 0 {
				t.Errorf("%s: want changed=0, got %d (changed tasks: %v)", h.name, s.Changed, res.changedTasks(h.name))
			}
		}
	})

	t.Run("prune keeps N", func(t *testing.T) {
		before := map[string]releasesJSON{}
		for _, h := range f.hosts {
			before[h.name] = h.releases(t)
		}
		res := f.playbook(t, "1.0.0", "-e", "app_keep=1")
		res.mustSucceed(t)
		for _, h := range f.hosts {
			b := before[h.name]
			want := map[string]bool{}
			for i, r := range b.Releases {
				if i == len(b.Releases)-1 || r.State == "permanent" || r.State == "current" || r.Running {
					want[r.Version] = true
				}
				if i+1 < len(b.Releases) && b.Releases[i+1].State == "permanent" {
					want[r.Version] = true // the previous one
				}
			}
			// And the release the last committed switch came from (the
			// downgrade's 2.0.0), which probation switches back to.
			from := lastSwitchedFrom(t, h)
			if from == "" {
				t.Errorf("%s: releases/HISTORY records no committed switch", h.name)
			}
			want[from] = true
			var got []string
			for _, r := range h.releases(t).Releases {
				got = append(got, r.Version)
			}
			var wantList []string
			for _, r := range b.Releases {
				if want[r.Version] {
					wantList = append(wantList, r.Version)
				} else if fileExists(filepath.Join(h.appRoot(), "releases", r.Version, appName)) {
					t.Errorf("%s: pruned release %s still has its directory", h.name, r.Version)
				}
			}
			if !slices.Equal(got, wantList) {
				t.Errorf("%s: after prune -keep 1 of %v: want %v, got %v", h.name, versions(b), wantList, got)
			}
			if len(b.Releases) <= len(wantList) {
				t.Errorf("%s: nothing to prune in %v: the test proves nothing", h.name, versions(b))
			}
		}
		f.wantRunning(t, "1.0.0", f.hosts...)
	})

	if len(bench) > 0 {
		var b strings.Builder
		b.WriteString("\n| rollout | playbook | switch h1 (canary) / h2 / h3 | requests | failed | p99 before | p99 during | p99 after |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n")
		for _, r := range bench {
			b.WriteString(r.String() + "\n")
		}
		t.Log(b.String())
	}
}

type release struct{ version, tags string }

// buildTool builds relkit's build tool.
func buildTool(t *testing.T, base string) string {
	t.Helper()
	bin := filepath.Join(base, "relkit")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/relkit")
	cmd.Dir = moduleRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/relkit: %v\n%s", err, out)
	}
	return bin
}

// buildReleases runs relkit build -tar for each release and puts the
// tarballs and their .sha256 into artifacts, as a CI job hands them over.
func buildReleases(t *testing.T, relkit, artifacts string, rels []release) {
	t.Helper()
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	build := func(r release) error {
		out := filepath.Join(filepath.Dir(artifacts), "build-"+r.version)
		args := []string{"build", "-tar", "-version", r.version, "-o", out}
		if r.tags != "" {
			args = append(args, "-tags", r.tags)
		}
		cmd := exec.Command(relkit, append(args, appPkg)...)
		cmd.Dir = moduleRoot
		cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=1700000000")
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("relkit %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		found, _ := filepath.Glob(filepath.Join(out, appName+"-"+r.version+"-*.tar.gz*"))
		if len(found) != 2 {
			return fmt.Errorf("relkit build -tar wrote %v, want a tarball and its .sha256", found)
		}
		for _, p := range found {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(artifacts, filepath.Base(p)), b, 0o644); err != nil {
				return err
			}
		}
		return os.RemoveAll(out)
	}
	// The first build fills the build cache; the others share it.
	if err := build(rels[0]); err != nil {
		t.Fatal(err)
	}
	errs := make([]error, len(rels))
	var wg sync.WaitGroup
	for i, r := range rels[1:] {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i+1] = build(r) }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// writeAnsibleConfig writes ansible.cfg and the inventory: Ansible's own
// state under base, ssh through the test's ssh_config (strict host keys).
func (f *fleet) writeAnsibleConfig(artifacts string) {
	t := f.t
	cfg := fmt.Sprintf(`[defaults]
home = %[1]s/ansible/home
local_tmp = %[1]s/ansible/tmp
interpreter_python = /usr/bin/python3
host_key_checking = True
forks = 10
retry_files_enabled = False
nocows = 1

[ssh_connection]
ssh_args = -F %[1]s/ssh_config
control_path_dir = %[1]s/cp
pipelining = True
`, f.base)
	var hosts strings.Builder
	for _, h := range f.hosts {
		fmt.Fprintf(&hosts, "        %s: {ansible_host: %s}\n", h.name, h.ip)
	}
	inv := fmt.Sprintf(`all:
  children:
    %[1]s:
      hosts:
%[2]s      vars:
        ansible_user: root
        app_root: /opt/%[1]s
        app_artifacts: %[3]s
        app_lb_host: localhost
        app_lb_socket: %[4]s
        app_lb_backend: %[1]s
        app_env:
          PORT: "%[5]d"
          DATABASE_URL: "%[6]s"
          LOG_FORMAT: json
          SHUTDOWN_TIMEOUT: 5s
          UPGRADE_TIMEOUT: 10s
`, appName, hosts.String(), artifacts, f.lbSock, appPort, f.dbURL)
	for name, data := range map[string]string{"ansible/ansible.cfg": cfg, "ansible/inventory.yml": inv} {
		p := filepath.Join(f.base, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// playResult is one ansible-playbook run, read from Ansible's json
// callback.
type playResult struct {
	rc         int
	out        callbackJSON
	start, end time.Time
	log        string // the playbook's log, for failure messages
}

type callbackJSON struct {
	Plays []struct {
		Play struct {
			Name     string     `json:"name"`
			Duration cbDuration `json:"duration"`
		} `json:"play"`
		Tasks []struct {
			Task struct {
				Name     string     `json:"name"`
				Duration cbDuration `json:"duration"`
			} `json:"task"`
			Hosts map[string]map[string]any `json:"hosts"`
		} `json:"tasks"`
	} `json:"plays"`
	Stats map[string]struct {
		Changed, Failures, Ok, Skipped, Unreachable, Rescued int
	} `json:"stats"`
}

type cbDuration struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

func cbTime(s string) time.Time {
	t, _ := time.Parse("2006-01-02T15:04:05.999999Z", s)
	return t
}

var runs int

// playbook runs the generated playbook for vsn, with extra arguments.
func (f *fleet) playbook(t *testing.T, vsn string, extra ...string) playResult {
	t.Helper()
	runs++
	logPath := filepath.Join(f.base, "ansible", fmt.Sprintf("run%d-%s.log", runs, vsn))
	// Bounded, and ended before the test's own deadline: a test that
	// times out panics without running the cleanups that end the hosts.
	limit := 8 * time.Minute
	if d, ok := t.Deadline(); ok && time.Until(d)-time.Minute < limit {
		limit = time.Until(d) - time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	args := append([]string{"-i", filepath.Join(f.base, "ansible", "inventory.yml"), filepath.Join(f.base, "deploy", appName+".yml"), "-e", "app_version=" + vsn}, extra...)
	cmd := exec.CommandContext(ctx, "ansible-playbook", args...)
	cmd.Env = append(os.Environ(), "ANSIBLE_CONFIG="+filepath.Join(f.base, "ansible", "ansible.cfg"),
		"ANSIBLE_STDOUT_CALLBACK=ansible.posix.json", "ANSIBLE_LOG_PATH="+logPath, "ANSIBLE_NOCOLOR=1",
		"ANSIBLE_INVENTORY_UNPARSED_FAILED=true", "ANSIBLE_HOST_PATTERN_MISMATCH=error")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	res := playResult{start: time.Now()}
	err := cmd.Run()
	res.end = time.Now()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.rc = exit.ExitCode()
	default:
		t.Fatalf("ansible-playbook: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("ansible-playbook %s: ended after %v, the test's time limit:\n%s", vsn, limit.Round(time.Second), tail(stderr.String(), 20))
	}
	logText, _ := os.ReadFile(logPath)
	if dir := os.Getenv("RELKIT_FLEET_LOGS"); dir != "" { // kept for a look after the test
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, filepath.Base(logPath)), logText, 0o644)
		os.WriteFile(filepath.Join(dir, filepath.Base(logPath)+".json"), stdout.Bytes(), 0o644)
	}
	res.log = tail(string(logText), 80) + "\n" + tail(stderr.String(), 20)
	if err := json.Unmarshal(stdout.Bytes(), &res.out); err != nil {
		t.Fatalf("ansible-playbook %s (exit %d): its json output: %v\n%s\n%s", vsn, res.rc, err, tail(stdout.String(), 40), res.log)
	}
	t.Logf("ansible-playbook -e app_version=%s %s: exit %d in %v", vsn, strings.Join(extra, " "), res.rc, res.end.Sub(res.start).Round(100*time.Millisecond))
	return res
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (r playResult) mustSucceed(t *testing.T) {
	t.Helper()
	if r.rc != 0 {
		t.Fatalf("ansible-playbook: exit %d\n%s", r.rc, r.log)
	}
}

// results returns, per host, the result of the last task whose name
// contains name.
func (r playResult) results(name string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, p := range r.out.Plays {
		for _, task := range p.Tasks {
			if strings.Contains(task.Task.Name, name) {
				for h, res := range task.Hosts {
					out[h] = res
				}
			}
		}
	}
	return out
}

func (r playResult) hostsWhere(name string, keep func(map[string]any) bool) []string {
	var hosts []string
	for h, res := range r.results(name) {
		if keep(res) {
			hosts = append(hosts, h)
		}
	}
	sort.Strings(hosts)
	return hosts
}

func (r playResult) ranOn(name string) []string {
	return r.hostsWhere(name, func(m map[string]any) bool { return m["skipped"] != true })
}
func (r playResult) changedOn(name string) []string {
	return r.hostsWhere(name, func(m map[string]any) bool { return m["changed"] == true })
}
func (r playResult) failedOn(name string) []string {
	return r.hostsWhere(name, func(m map[string]any) bool { return m["failed"] == true })
}

// changedTasks names the tasks that reported a change on host.
func (r playResult) changedTasks(host string) []string {
	var out []string
	for _, p := range r.out.Plays {
		for _, task := range p.Tasks {
			if res, ok := task.Hosts[host]; ok && res["changed"] == true {
				out = append(out, task.Task.Name)
			}
		}
	}
	return out
}

// firstStart and lastEnd: when the first task named name started on any
// host, and when the last one ended.
func (r playResult) firstStart(name string) time.Time {
	var first time.Time
	for _, p := range r.out.Plays {
		for _, task := range p.Tasks {
			if s := cbTime(task.Task.Duration.Start); strings.Contains(task.Task.Name, name) && (first.IsZero() || s.Before(first)) {
				first = s
			}
		}
	}
	return first
}

func (r playResult) lastEnd(name string) time.Time {
	var last time.Time
	for _, p := range r.out.Plays {
		for _, task := range p.Tasks {
			if e := cbTime(task.Task.Duration.End); strings.Contains(task.Task.Name, name) && e.After(last) {
				last = e
			}
		}
	}
	return last
}

// switchTimes returns, per host, how long its batch of the switch play
// took (drain, switch, gates, enable, prune).
func (r playResult) switchTimes() map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, p := range r.out.Plays {
		if !strings.HasPrefix(p.Play.Name, "Switch, canary first") {
			continue
		}
		d := cbTime(p.Play.Duration.End).Sub(cbTime(p.Play.Duration.Start))
		for _, task := range p.Tasks {
			for h := range task.Hosts {
				out[h] = d
			}
		}
	}
	return out
}

// underLoad runs the playbook for vsn with load through haproxy from 3 s
// before it until 3 s after.
func (f *fleet) underLoad(t *testing.T, vsn string, extra ...string) (playResult, *load, benchRow) {
	t.Helper()
	l := startLoad(f.lbPort, 8*time.Minute)
	defer l.stop()
	time.Sleep(3 * time.Second) // a baseline to compare the latency with
	res := f.playbook(t, vsn, extra...)
	time.Sleep(3 * time.Second)
	l.stop()
	row := benchRow{rollout: vsn, playbook: res.end.Sub(res.start), perHost: res.switchTimes(), ok: l.ok, failed: l.nFailed}
	row.before, _ = l.p99(0, res.start.Sub(l.start))
	row.during, _ = l.p99(res.start.Sub(l.start), res.end.Sub(l.start))
	row.after, _ = l.p99(res.end.Sub(l.start), time.Hour)
	t.Logf("load: %d ok, %d failed, answers by release %v", l.ok, l.nFailed, l.seen)
	return res, l, row
}

func wantNoFailures(t *testing.T, l *load, versions ...string) {
	t.Helper()
	if l.nFailed != 0 || l.ok == 0 {
		t.Errorf("load through haproxy: want 0 failed, got %d ok and %d failed: %q", l.ok, l.nFailed, l.failed)
	}
	for _, v := range versions {
		if l.seen[v] == 0 {
			t.Errorf("load through haproxy: no answer from %s (answers: %v)", v, l.seen)
		}
	}
}

type benchRow struct {
	rollout               string
	playbook              time.Duration
	perHost               map[string]time.Duration
	ok, failed            int
	before, during, after time.Duration
}

func (r benchRow) String() string {
	var hosts []string
	for _, h := range []string{"h1", "h2", "h3"} {
		hosts = append(hosts, r.perHost[h].Round(100*time.Millisecond).String())
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	return fmt.Sprintf("| to %s | %v | %s | %d | %d | %s | %s | %s |", r.rollout, r.playbook.Round(100*time.Millisecond), strings.Join(hosts, " / "),
		r.ok+r.failed, r.failed, ms(r.before), ms(r.during), ms(r.after))
}

// releasesJSON is `releases -json`.
type releasesJSON struct {
	Running         *string `json:"running"`
	DatabaseVersion *int    `json:"database_version"`
	Releases        []struct {
		Version string `json:"version"`
		State   string `json:"state"`
		Running bool   `json:"running"`
	} `json:"releases"`
}

func versions(r releasesJSON) []string {
	var out []string
	for _, x := range r.Releases {
		out = append(out, x.Version+":"+x.State)
	}
	return out
}

// releases runs bin/NAME releases -json on h (from outside: the control
// socket is a file under the host's directory).
func (h *host) releases(t *testing.T) releasesJSON {
	t.Helper()
	cmd := exec.Command(filepath.Join(h.appRoot(), "bin", appName), "releases", "-json")
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	out, err := cmd.Output()
	var r releasesJSON
	if err == nil {
		err = json.Unmarshal(out, &r)
	}
	if err != nil {
		t.Fatalf("%s: releases -json: %v\n%s", h.name, err, out)
	}
	return r
}

// wantRunning checks that vsn runs and is permanent on every host given,
// and answers on the host's own address.
func (f *fleet) wantRunning(t *testing.T, vsn string, hosts ...*host) {
	t.Helper()
	for _, h := range hosts {
		r := h.releases(t)
		if r.Running == nil || *r.Running != vsn {
			t.Errorf("%s: want %s running, got %v (%v)", h.name, vsn, r.Running, versions(r))
			continue
		}
		for _, x := range r.Releases {
			if x.Version == vsn && x.State != "permanent" {
				t.Errorf("%s: %s runs but is %s, want permanent (%v)", h.name, vsn, x.State, versions(r))
			}
		}
		resp, err := http.Get(h.appURL("/notes"))
		if err != nil {
			t.Errorf("%s: GET /notes: %v", h.name, err)
			continue
		}
		var body bytes.Buffer
		body.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body.String(), vsn+" ") {
			t.Errorf("%s: GET /notes: want 200 from %s, got %d %q", h.name, vsn, resp.StatusCode, body.String())
		}
	}
}

// lastSwitchedFrom reads h's releases/HISTORY (TIME USER FROM TO RESULT
// TOOK, tab-separated; RESULT ends in " ok" for a committed switch) and
// returns the release the last committed switch came from.
func lastSwitchedFrom(t *testing.T, h *host) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(h.appRoot(), "releases", "HISTORY"))
	if err != nil {
		t.Fatalf("%s: %v", h.name, err)
	}
	var from string
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Split(line, "\t"); len(f) == 6 && strings.HasSuffix(f[4], " ok") {
			from = f[2]
		}
	}
	return from
}
