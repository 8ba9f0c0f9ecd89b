package main

import (
	"context"
	"flag"
)

func helpCommand() *command {
	return &command{
		name:     "help",
		synopsis: "[COMMAND]",
		summary:  "show the commands, or one command's flags",
		flags: func(*flag.FlagSet) func(context.Context, *osEnv, []string) error {
			return func(_ context.Context, e *osEnv, args []string) error {
				switch len(args) {
				case 0:
					writeHelp(e.stdout)
					return nil
				case 1:
					c := lookup(args[0])
					if c == nil {
						return usagef("", "no help for unknown command %q", args[0])
					}
					fs := newFlagSet(c)
					c.flags(fs)
					writeUsage(e.stdout, c, fs)
					return nil
				default:
					return usagef("", "help takes one command name, got %d arguments", len(args))
				}
			}
		},
	}
}
