package releasetest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/relkit/relkit/release"
	"github.com/relkit/relkit/release/releasetest"
	"github.com/relkit/relkit/runtimeconfig"
)

type config struct {
	runtimeconfig.Base
	Token string `env:"TOKEN" secret:"true"`
}

func goodApp() release.App[config] {
	return release.App[config]{
		Name: "demo", Version: "1.0.0",
		Tasks: release.Tasks[config]{"hi": {Summary: "say hi", Run: func(ctx context.Context, c *release.Call[config]) error {
			fmt.Fprintln(c.Stdout, "hi", strings.Join(c.Args, " "))
			return nil
		}}},
	}
}

func TestCheckPassesAGoodApp(t *testing.T) {
	t.Parallel()
	releasetest.Check(t, goodApp(), map[string]string{"TOKEN": "t0ps3cret"})
}

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Error(args ...any) { r.errors = append(r.errors, fmt.Sprint(args...)) }
func (r *recorder) Helper()           {}

func TestCheckFindsProblems(t *testing.T) {
	t.Parallel()
	app := goodApp()
	app.Name = ""
	app.Tasks["bare"] = release.Task[config]{Run: func(context.Context, *release.Call[config]) error { return nil }}
	rec := &recorder{TB: t}
	releasetest.Check(rec, app, map[string]string{"PORT": "x"})
	all := strings.Join(rec.errors, "\n")
	for _, want := range []string{"the App has no Name", `task "bare" has no Summary`, "config: want exit 0"} {
		if !strings.Contains(all, want) {
			t.Errorf("want a failure containing %q, got:\n%s", want, all)
		}
	}
}

func TestRunIsHermetic(t *testing.T) {
	t.Setenv("TOKEN", "from-the-process")
	res := releasetest.Run(t, goodApp(), nil, "config", "-json")
	var vars []struct{ Name, Source string }
	if err := json.Unmarshal([]byte(res.Stdout), &vars); err != nil {
		t.Fatal(err)
	}
	for _, v := range vars {
		if v.Name == "TOKEN" && v.Source != "unset" {
			t.Fatalf("Run leaked the test process's TOKEN into the app: source %s", v.Source)
		}
	}
}

func ExampleRun() {
	t := &testing.T{} // in a test, use the test's own t
	res := releasetest.Run(t, goodApp(), nil, "eval", "hi", "there")
	fmt.Print(res.Code, " ", res.Stdout)
	// Output: 0 hi there
}
