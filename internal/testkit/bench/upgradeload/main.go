// Command upgradeload measures upgrades under load, for
// internal/testkit/bench/upgrade.sh: against a release running at -root, it sends
// bounded loopback load (keep-alive POST clients and clients opening a
// connection per request) for a steady-state period, then keeps it up
// while it switches the release -n times, alternating upgrade -to and
// downgrade -from, and prints a Markdown table: requests, failed requests,
// refused connections, p50/p99/p99.9 latency in steady state and during
// the switches, and the time from starting the upgrade command to the new
// version answering.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/relkit/relkit/internal/testkit/loadgen"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "upgradeload:", err)
		os.Exit(1)
	}
}

type options struct {
	root, name, from, to string
	port                 int
	switches             int
	keepAlive, perReq    int
	steady, gap          time.Duration
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("upgradeload", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.root, "root", "", "release root of the running system (required)")
	fs.StringVar(&o.name, "name", "hello", "release name")
	fs.StringVar(&o.from, "from", "1.0.0", "the running version")
	fs.StringVar(&o.to, "to", "2.0.0", "the version to switch to and back from")
	fs.IntVar(&o.port, "port", 4998, "the system's HTTP port on 127.0.0.1")
	fs.IntVar(&o.switches, "n", 100, "switches (upgrades and downgrades, alternating)")
	fs.IntVar(&o.keepAlive, "keepalive", 8, "keep-alive POST clients")
	fs.IntVar(&o.perReq, "per-request", 8, "clients opening a connection per POST")
	fs.DurationVar(&o.steady, "steady", 10*time.Second, "steady-state load before the switches")
	fs.DurationVar(&o.gap, "gap", 200*time.Millisecond, "load between two switches")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.root == "" {
		return errors.New("-root is required")
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/", o.port)
	prefix := "Hello from " + o.name + " "
	lo := loadgen.Options{URL: url, KeepAlive: o.keepAlive, PerRequest: o.perReq, Record: true,
		Limit: o.steady + time.Duration(o.switches)*(o.gap+30*time.Second),
		Check: func(status int, body []byte) error {
			if status != 200 || !strings.HasPrefix(string(body), prefix) {
				return fmt.Errorf("status %d body %q", status, body)
			}
			return nil
		}}

	steady := loadgen.Start(lo)
	time.Sleep(o.steady)
	sres := steady.Stop()

	load := loadgen.Start(lo)
	type window struct{ from, to time.Time }
	var windows []window
	var toServing, cmdTook []time.Duration
	time.Sleep(o.gap)
	for i := range o.switches {
		cmd, vsn := "upgrade", o.to
		if i%2 == 1 {
			cmd, vsn = "downgrade", o.from
		}
		began := time.Now()
		served, err := switchRelease(o, cmd, vsn, url, prefix+vsn)
		if err != nil {
			load.Stop()
			return fmt.Errorf("switch %d: %w", i+1, err)
		}
		ended := time.Now()
		windows = append(windows, window{began, ended.Add(100 * time.Millisecond)})
		toServing = append(toServing, served)
		cmdTook = append(cmdTook, ended.Sub(began))
		time.Sleep(o.gap)
	}
	res := load.Stop()

	var during, between []time.Duration
	for _, s := range res.Samples {
		at := res.Started.Add(s.At)
		in := false
		for _, w := range windows {
			if !at.Before(w.from) && at.Before(w.to) {
				in = true
				break
			}
		}
		if in {
			during = append(during, s.Latency)
		} else {
			between = append(between, s.Latency)
		}
	}
	var steadyLat []time.Duration
	for _, s := range sres.Samples {
		steadyLat = append(steadyLat, s.Latency)
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
	p := loadgen.Percentile
	fmt.Fprintf(out, "| measure | steady state (%v, no switch) | during %d switches |\n|---|---|---|\n", o.steady, o.switches)
	fmt.Fprintf(out, "| requests | %d | %d (%d within a switch window) |\n", sres.OK+sres.Failed, res.OK+res.Failed, len(during))
	fmt.Fprintf(out, "| failed requests | %d | %d |\n", sres.Failed, res.Failed)
	fmt.Fprintf(out, "| refused connections | %d | %d |\n", sres.Refused, res.Refused)
	fmt.Fprintf(out, "| p50 latency | %s | %s |\n", ms(p(steadyLat, 50)), ms(p(during, 50)))
	fmt.Fprintf(out, "| p99 latency | %s | %s |\n", ms(p(steadyLat, 99)), ms(p(during, 99)))
	fmt.Fprintf(out, "| p99.9 latency | %s | %s |\n", ms(p(steadyLat, 99.9)), ms(p(during, 99.9)))
	fmt.Fprintf(out, "| max latency | %s | %s |\n", ms(p(steadyLat, 100)), ms(p(during, 100)))
	fmt.Fprintf(out, "\nSwitch command (upgrade/downgrade until it exits): median %s, max %s. From starting the command to the new version answering: median %s, p90 %s, max %s.\n",
		ms(p(cmdTook, 50)), ms(p(cmdTook, 100)), ms(p(toServing, 50)), ms(p(toServing, 90)), ms(p(toServing, 100)))
	fmt.Fprintf(out, "Load: %d keep-alive POST clients and %d connection-per-request POST clients on loopback; between switches %d requests, p99.9 %s.\n",
		o.keepAlive, o.perReq, len(between), ms(p(between, 99.9)))
	if res.Failed > 0 {
		fmt.Fprintf(out, "\nFirst failures: %q\n", res.Errors)
	}
	return nil
}

// switchRelease runs bin/NAME cmd vsn and, meanwhile, polls url on new
// connections until it answers want; it returns how long after the start
// of the command that was.
func switchRelease(o options, cmd, vsn, url, want string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	began := time.Now()
	c := exec.CommandContext(ctx, filepath.Join(o.root, "bin", o.name), cmd, vsn)
	c.Dir = o.root
	var outb strings.Builder
	c.Stdout, c.Stderr = &outb, &outb
	if err := c.Start(); err != nil {
		return 0, err
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	answers := func() bool {
		resp, err := client.Get(url)
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return strings.HasPrefix(string(b), want)
	}
	poll := time.NewTicker(time.Millisecond)
	defer poll.Stop()
	var served time.Duration
	var cmdErr error
	exited := false
	for {
		if answers() {
			served = time.Since(began)
			break
		}
		if exited { // the command is done and the new version does not answer
			if cmdErr == nil {
				cmdErr = fmt.Errorf("it succeeded but the server does not answer %q", want)
			}
			break
		}
		select {
		case cmdErr = <-done:
			exited = true
		case <-poll.C:
		}
	}
	if !exited {
		cmdErr = <-done
	}
	if cmdErr != nil {
		return 0, fmt.Errorf("%s %s: %v\n%s", cmd, vsn, cmdErr, outb.String())
	}
	return served, nil
}
