package fleettest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/relkit/relkit/internal/testkit"
)

// fleet is the test bed: hosts as network namespaces on a bridge, each
// with its own address and sshd, the machine's PostgreSQL reachable from
// them through a forwarder on the bridge address, and haproxy on
// 127.0.0.1 in front of them. Everything it writes is under base, but
// /run/sshd (sshd's compiled-in privilege separation directory), made only
// when missing and removed again.
type fleet struct {
	t      *testing.T
	base   string
	id     string // names: namespaces rkfIDhN, bridge rkfIDbr, veths rkfIDvN
	net    string // the private /24's first three octets
	hosts  []*host
	lbPort int
	lbSock string // haproxy's admin socket
	dbURL  string // as the hosts reach it
}

type host struct {
	name, ns, ip string
	dir          string // the host's own /root and /opt are dir/root and dir/opt
}

const appName, appPort = "fleetapp", 4000

func (f *fleet) bridge() string        { return "rkf" + f.id + "br" }
func (f *fleet) bridgeIP() string      { return f.net + ".1" }
func (h *host) appRoot() string        { return filepath.Join(h.dir, "opt", appName) }
func (h *host) appURL(p string) string { return fmt.Sprintf("http://%s:%d%s", h.ip, appPort, p) }

// run runs a command the test bed needs and fails the test when it fails.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// needPackages installs the Debian packages the test bed uses when one of
// their commands is missing.
func needPackages(t *testing.T) {
	t.Helper()
	want := map[string]string{
		"/usr/sbin/sshd": "openssh-server", "ssh": "openssh-client", "ssh-keygen": "openssh-client",
		"haproxy": "haproxy", "ansible-playbook": "ansible", "ip": "iproute2", "unshare": "util-linux",
	}
	var missing []string
	seen := map[string]bool{}
	for cmd, pkg := range want {
		if _, err := exec.LookPath(cmd); err != nil && !seen[pkg] {
			seen[pkg] = true
			missing = append(missing, pkg)
		}
	}
	if len(missing) == 0 {
		return
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		testkit.Unavailable(t, "missing %s and no apt-get to install them", strings.Join(missing, ", "))
	}
	t.Logf("installing %s", strings.Join(missing, " "))
	env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	for _, args := range [][]string{{"update", "-qq"}, append([]string{"install", "-y", "-qq", "--no-install-recommends"}, missing...)} {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("apt-get %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// newFleet sets up n hosts. Every cleanup is registered before the thing
// it undoes is made, and ends processes by the PID the test started.
func newFleet(t *testing.T, n int, databaseURL string) *fleet {
	t.Helper()
	f := &fleet{t: t, base: testkit.ShortTempDir(t), id: strconv.Itoa(os.Getpid() % 100000)}
	// A /24 nobody on this machine uses.
	addrs := run(t, "ip", "-o", "addr") + run(t, "ip", "route", "show", "table", "all")
	for range 100 {
		f.net = fmt.Sprintf("10.%d.%d", 180+rand.IntN(60), rand.IntN(250))
		if !strings.Contains(addrs, " "+f.net+".") {
			break
		}
	}
	for i := 1; i <= n; i++ {
		f.hosts = append(f.hosts, &host{name: fmt.Sprintf("h%d", i), ns: fmt.Sprintf("rkf%sh%d", f.id, i), ip: fmt.Sprintf("%s.%d", f.net, 10+i), dir: filepath.Join(f.base, fmt.Sprintf("h%d", i))})
	}
	f.network()
	f.postgres(databaseURL)
	f.sshd()
	f.haproxy()
	return f
}

// network: a blackhole route for the /24 first (should the bridge go,
// nothing addressed to it leaves by the default route), the bridge, one
// namespace and veth pair per host.
func (f *fleet) network() {
	t := f.t
	t.Cleanup(func() {
		for i, h := range f.hosts {
			f.endNamespace(h)
			// The kernel may tear the namespace's end of the pair down
			// later; the host's end goes now.
			exec.Command("ip", "link", "delete", fmt.Sprintf("rkf%sv%d", f.id, i+1)).Run()
		}
		exec.Command("ip", "link", "delete", f.bridge()).Run()
		exec.Command("ip", "route", "del", "blackhole", f.net+".0/24", "metric", "4242").Run()
	})
	run(t, "ip", "route", "add", "blackhole", f.net+".0/24", "metric", "4242")
	run(t, "ip", "link", "add", f.bridge(), "type", "bridge")
	run(t, "ip", "addr", "add", f.bridgeIP()+"/24", "dev", f.bridge())
	run(t, "ip", "link", "set", f.bridge(), "up")
	for i, h := range f.hosts {
		veth := fmt.Sprintf("rkf%sv%d", f.id, i+1)
		run(t, "ip", "netns", "add", h.ns)
		run(t, "ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", h.ns)
		run(t, "ip", "link", "set", veth, "master", f.bridge(), "up")
		run(t, "ip", "-n", h.ns, "addr", "add", h.ip+"/24", "dev", "eth0")
		run(t, "ip", "-n", h.ns, "link", "set", "eth0", "up")
		run(t, "ip", "-n", h.ns, "link", "set", "lo", "up")
	}
	// Nothing is sent unless the hosts' addresses route to our bridge.
	if out := run(t, "ip", "-o", "route", "get", f.hosts[0].ip); !strings.Contains(out, " dev "+f.bridge()+" ") {
		t.Fatalf("%s does not route to %s: %s", f.hosts[0].ip, f.bridge(), out)
	}
}

// endNamespace stops the release on h, ends every process left in its
// namespace by PID (TERM, then KILL after 5 s) and deletes the namespace.
func (f *fleet) endNamespace(h *host) {
	if bin := filepath.Join(h.appRoot(), "bin", appName); fileExists(bin) {
		cmd := exec.Command(bin, "stop")
		cmd.Env = []string{"PATH=/usr/bin:/bin"}
		cmd.Run()
	}
	out, _ := exec.Command("ip", "netns", "pids", h.ns).Output()
	for _, s := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(s); err == nil {
			endPID(pid)
		}
	}
	exec.Command("ip", "netns", "delete", h.ns).Run()
}

// endPID sends SIGTERM, waits up to 5 s, then SIGKILL.
func endPID(pid int) {
	if syscall.Kill(pid, syscall.SIGTERM) != nil {
		return
	}
	for range 50 {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	syscall.Kill(pid, syscall.SIGKILL)
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// postgres makes the machine's PostgreSQL (127.0.0.1, trust) reachable
// from the hosts: a forwarder on the bridge address, in the test process,
// so the server sees loopback connections and the system cluster's
// configuration is not touched.
func (f *fleet) postgres(databaseURL string) {
	t := f.t
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	ln, err := net.Listen("tcp", f.bridgeIP()+":0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	track := func(c net.Conn, add bool) {
		mu.Lock()
		defer mu.Unlock()
		if add {
			conns[c] = true
		} else {
			delete(conns, c)
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.DialTimeout("tcp", target, 5*time.Second)
			if err != nil {
				in.Close()
				continue
			}
			track(in, true)
			track(out, true)
			wg.Add(2)
			pipe := func(dst, src net.Conn) {
				defer wg.Done()
				io.Copy(dst, src)
				dst.Close()
				src.Close()
				track(dst, false)
				track(src, false)
			}
			go pipe(in, out)
			go pipe(out, in)
		}
	}()
	u.Host = ln.Addr().String()
	q := u.Query()
	q.Set("sslmode", "disable")
	u.RawQuery = q.Encode()
	f.dbURL = u.String()
}

// sshd: one client key, a host key and an sshd per host, started in the
// host's namespace and in a private mount namespace where the host's own
// directories are mounted over /root and /opt (the machine's are not
// touched; its own /root also means no slow login shell profile and an
// authorized_keys StrictModes accepts). known_hosts lists each host key,
// and the client checks them strictly.
func (f *fleet) sshd() {
	t := f.t
	keys := filepath.Join(f.base, "keys")
	if err := os.MkdirAll(keys, 0o700); err != nil {
		t.Fatal(err)
	}
	if !fileExists("/run/sshd") {
		if err := os.Mkdir("/run/sshd", 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove("/run/sshd") })
	}
	run(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "fleettest", "-f", filepath.Join(keys, "id_ed25519"))
	pub, err := os.ReadFile(filepath.Join(keys, "id_ed25519.pub"))
	if err != nil {
		t.Fatal(err)
	}
	var known strings.Builder
	for _, h := range f.hosts {
		for _, d := range []string{"etc", "log", "root/.ssh", "opt/" + appName} {
			if err := os.MkdirAll(filepath.Join(h.dir, d), 0o700); err != nil {
				t.Fatal(err)
			}
		}
		os.Chmod(filepath.Join(h.dir, "opt"), 0o755)
		if err := os.WriteFile(filepath.Join(h.dir, "root/.ssh/authorized_keys"), pub, 0o600); err != nil {
			t.Fatal(err)
		}
		hostKey := filepath.Join(h.dir, "etc", "ssh_host_ed25519_key")
		run(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", h.name, "-f", hostKey)
		hk, err := os.ReadFile(hostKey + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		fields := strings.Fields(string(hk))
		fmt.Fprintf(&known, "%s %s %s\n", h.ip, fields[0], fields[1])
		config := filepath.Join(h.dir, "etc", "sshd_config")
		err = os.WriteFile(config, []byte(fmt.Sprintf(`# sshd of %s (%s), namespace %s
Port 22
ListenAddress %s
HostKey %s
PidFile none
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
X11Forwarding no
PrintMotd no
PrintLastLog no
MaxStartups 64:30:128
MaxSessions 32
Subsystem sftp internal-sftp
`, h.name, h.ip, h.ns, h.ip, hostKey)), 0o600)
		if err != nil {
			t.Fatal(err)
		}
		run(t, "/usr/sbin/sshd", "-t", "-f", config)
		// -D: sshd stays the process this test started, ended by its PID.
		cmd := exec.Command("ip", "netns", "exec", h.ns, "unshare", "--mount", "--propagation", "private", "/bin/sh", "-ec",
			`mount --bind "$1/root" /root; mount --bind "$1/opt" /opt; exec /usr/sbin/sshd -D -f "$1/etc/sshd_config" -E "$1/log/sshd.log"`, "sh", h.dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		t.Cleanup(func() {
			endPID(cmd.Process.Pid)
			<-done
		})
		f.waitListening(h.ip+":22", "sshd of "+h.name, done, filepath.Join(h.dir, "log", "sshd.log"))
	}
	if err := os.WriteFile(filepath.Join(keys, "known_hosts"), []byte(known.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(f.base, "cp")
	os.MkdirAll(cp, 0o700)
	err = os.WriteFile(filepath.Join(f.base, "ssh_config"), []byte(fmt.Sprintf(`Host *
  User root
  IdentityFile %s/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile %s/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  ConnectTimeout 5
  ControlMaster auto
  ControlPersist 120s
  ControlPath %s/%%C
`, keys, keys, cp)), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	// The connection masters Ansible leaves behind.
	t.Cleanup(func() {
		for _, h := range f.hosts {
			exec.Command("ssh", "-F", filepath.Join(f.base, "ssh_config"), "-O", "exit", h.ip).Run()
		}
	})
}

// waitListening waits until addr accepts a connection, failing when the
// process behind it ended (done closed) or after 20 s.
func (f *fleet) waitListening(addr, what string, done <-chan struct{}, logFile string) {
	f.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-done:
			b, _ := os.ReadFile(logFile)
			f.t.Fatalf("%s exited before it listened on %s:\n%s", what, addr, b)
		default:
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logFile)
			f.t.Fatalf("%s does not listen on %s after 20 s: %v\n%s", what, addr, err, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// haproxy on 127.0.0.1 in front of the hosts, checking /readyz, with an
// admin socket for the playbook's drain and enable.
func (f *fleet) haproxy() {
	t := f.t
	f.lbPort = testkit.FreePort(t)
	f.lbSock = filepath.Join(f.base, "haproxy.sock")
	var servers strings.Builder
	for _, h := range f.hosts {
		fmt.Fprintf(&servers, "    server %s %s:%d check\n", h.name, h.ip, appPort)
	}
	config := filepath.Join(f.base, "haproxy.cfg")
	err := os.WriteFile(config, []byte(fmt.Sprintf(`global
    maxconn 2000
    stats socket %s mode 600 level admin

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 10s
    retries 3
    option redispatch

frontend fe
    bind 127.0.0.1:%d
    default_backend %s

backend %s
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 500ms fastinter 250ms downinter 1s fall 2 rise 2
%s`, f.lbSock, f.lbPort, appName, appName, servers.String())), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	run(t, "haproxy", "-c", "-q", "-f", config)
	logs := &testkit.Buffer{}
	cmd := exec.Command("haproxy", "-db", "-f", config)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		endPID(cmd.Process.Pid)
		<-done
	})
	f.waitListening(fmt.Sprintf("127.0.0.1:%d", f.lbPort), "haproxy", done, "/dev/null")
}

// lbStatus returns each server's status in haproxy ("UP", "DOWN",
// "DRAIN", "MAINT", ...), from `show stat` on the admin socket.
func (f *fleet) lbStatus() (map[string]string, error) {
	c, err := net.DialTimeout("unix", f.lbSock, 2*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "show stat\n"); err != nil {
		return nil, err
	}
	out := map[string]string{}
	sc := bufio.NewScanner(c)
	col := -1
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ",")
		if strings.HasPrefix(sc.Text(), "# ") {
			for i, name := range fields {
				if name == "status" {
					col = i
				}
			}
			continue
		}
		if col >= 0 && len(fields) > col && fields[0] == appName && fields[1] != "BACKEND" {
			out[fields[1]] = fields[col]
		}
	}
	if col < 0 {
		return nil, errors.New("haproxy's show stat has no status column")
	}
	return out, sc.Err()
}

// waitLB waits until haproxy sees every host UP.
func (f *fleet) waitLB(ctx context.Context) error {
	for {
		st, err := f.lbStatus()
		up := err == nil
		for _, h := range f.hosts {
			up = up && st[h.name] == "UP"
		}
		if up {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("haproxy does not see every host UP: %v %v", st, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
