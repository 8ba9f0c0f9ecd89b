package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/relkit/relkit/release"
)

// importLinks reads FILE (- for stdin): one URL, or CODE URL, per line;
// blank lines and lines starting with # are skipped. Links whose code is
// taken are skipped and counted; a malformed line stops the import with its
// line number, after the lines before it were imported.
func importLinks(ctx context.Context, c *release.Call[Config]) error {
	if len(c.Args) != 1 {
		return release.Usagef("import needs one FILE (- for stdin)")
	}
	var in io.Reader = c.Stdin
	if name := c.Args[0]; name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	s, err := openStore(ctx, c.Config.DatabaseURL)
	if err != nil {
		return err
	}
	defer s.db.Close()
	imported, skipped := 0, 0
	sc := bufio.NewScanner(in)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		code, target := "", line
		if f := strings.Fields(line); len(f) == 2 {
			code, target = f[0], f[1]
		} else if len(f) > 2 {
			return fmt.Errorf("line %d: want URL or CODE URL, got %d fields (imported %d before it)", n, len(f), imported)
		}
		if err := checkLink(code, target); err != nil {
			return fmt.Errorf("line %d: %w (imported %d before it)", n, err, imported)
		}
		if _, err := s.create(ctx, code, target); errors.Is(err, errTaken) {
			skipped++
			continue
		} else if err != nil {
			return fmt.Errorf("line %d: %w (imported %d before it)", n, err, imported)
		}
		imported++
	}
	if err := sc.Err(); err != nil {
		return err
	}
	c.Logger.Info("import done", "imported", imported, "skipped", skipped)
	fmt.Fprintf(c.Stdout, "Imported %d links; skipped %d whose code was taken.\n", imported, skipped)
	return nil
}
