// Command boot measures boot-to-first-200 of an HTTP server program for
// internal/testkit/bench/hello.sh: it starts the program N times with PORT set, polls
// http://127.0.0.1:PORT/ until it answers 200, stops it with SIGTERM, and
// prints the median and minimum in milliseconds.
//
//	go run ./internal/testkit/bench/boot -n 20 -port 4999 ./hello start
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("n", 20, "runs")
	port := flag.Int("port", 4999, "PORT for the program")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: boot [-n N] [-port P] PROGRAM [ARGS...]")
		os.Exit(64)
	}
	url := "http://127.0.0.1:" + strconv.Itoa(*port) + "/"
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var runs []time.Duration
	for range *n {
		cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
		cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(*port), "LOG_FORMAT=json")
		start := time.Now()
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for {
			resp, err := client.Get(url)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			if time.Since(start) > 10*time.Second {
				cmd.Process.Kill()
				fmt.Fprintln(os.Stderr, "no 200 within 10s")
				os.Exit(1)
			}
			time.Sleep(100 * time.Microsecond)
		}
		runs = append(runs, time.Since(start))
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
	slices.Sort(runs)
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 2, 64) }
	fmt.Printf("%s %s\n", ms(runs[len(runs)/2]), ms(runs[0]))
}
