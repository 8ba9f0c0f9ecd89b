package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit codes, the same as a relkit release's.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 64
)

// osEnv is what a command gets from the process: nothing else reads the
// environment, the working directory or the standard streams.
type osEnv struct {
	dir    string
	env    map[string]string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// command is one relkit subcommand.
type command struct {
	name     string
	synopsis string // arguments after the name, for usage
	summary  string // one line, for the command list
	long     string // paragraphs shown by `relkit help NAME`
	// flags declares the command's flags on fs and returns the function
	// that runs it with the remaining arguments.
	flags func(fs *flag.FlagSet) func(ctx context.Context, e *osEnv, args []string) error
}

func commands() []*command {
	return []*command{buildCommand(), tarCommand(), keygenCommand(), signCommand(), verifyCommand(), genCommand(), versionCommand(), helpCommand()}
}

// usageError is a mistake in the command line: exit 64 with a hint.
type usageError struct {
	problem string
	try     string
}

func (e *usageError) Error() string { return e.problem }

func usagef(try, format string, args ...any) error {
	return &usageError{problem: fmt.Sprintf(format, args...), try: try}
}

// errHelp reports that help was printed on request.
var errHelp = errors.New("help requested")

// run runs relkit with args (without the program name) in working
// directory dir with environment env, and returns the exit code.
func run(ctx context.Context, dir string, args []string, env map[string]string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &osEnv{dir: dir, env: env, stdin: stdin, stdout: stdout, stderr: stderr}
	err := dispatch(ctx, e, args)
	var usage *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &usage):
		try := usage.try
		if try == "" {
			try = "relkit help"
		}
		fmt.Fprintf(stderr, "Error: %s\nTry: %s\n", usage.problem, try)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "Error: %s\n", err)
		return exitFailure
	}
}

func dispatch(ctx context.Context, e *osEnv, args []string) error {
	if len(args) == 0 {
		writeHelp(e.stderr)
		return usagef("", "no command given")
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		name = "help"
	}
	c := lookup(name)
	if c == nil {
		return usagef("", "unknown command %q", name)
	}
	fs := newFlagSet(c)
	runCmd := c.flags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			writeUsage(e.stdout, c, fs)
			return errHelp
		}
		return usagef("relkit help "+c.name, "%s", err)
	}
	return runCmd(ctx, e, fs.Args())
}

func lookup(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

func newFlagSet(c *command) *flag.FlagSet {
	fs := flag.NewFlagSet("relkit "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// writeUsage prints c's synopsis, summary and flags.
func writeUsage(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: relkit %s %s\n\n%s\n", c.name, c.synopsis, c.summary)
	if c.long != "" {
		fmt.Fprintf(w, "\n%s\n", c.long)
	}
	var hasFlags bool
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprintln(w, "\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
}

// writeHelp prints the command list.
func writeHelp(w io.Writer) {
	fmt.Fprint(w, "relkit assembles releases of relkit apps and writes their deployment files.\n\nUsage: relkit COMMAND [flags] [args]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun `relkit help COMMAND` for a command's flags.\n")
}

// noArgs rejects extra arguments.
func noArgs(cmd string, args []string) error {
	if len(args) > 0 {
		return usagef("relkit help "+cmd, "unexpected argument %q", strings.Join(args, " "))
	}
	return nil
}
