package release

import (
	"testing"

	"github.com/relkit/relkit/internal/install"
)

func TestNewerRelease(t *testing.T) {
	t.Parallel()
	rs, err := install.ParseReleases([]byte("blue old\ngreen permanent\n2.0.0 old\n1.0.0 unpacked\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"2.0.0", "1.0.0", true},
		{"1.0.0", "2.0.0", false},
		{"1.10.0", "1.9.0", true},
		{"2.0", "1.9.9", true},
		{"1.0.0", "1.0.0-rc.1", true},
		{"1.0.0-rc.2", "1.0.0-rc.10", false},
		{"1.0.0-beta", "1.0.0-alpha", true},
		{"1.0.0+build.2", "1.0.0+build.1", false}, // the same version by number, neither listed: not newer
		{"green", "blue", true},                   // not numbers: RELEASES order
		{"blue", "green", false},
		{"red", "green", true}, // not listed: the newest
		{"green", "2.0.0", false},
	} {
		if got := newerRelease(rs, tc.a, tc.b); got != tc.want {
			t.Errorf("newerRelease(%q, %q): want %v, got %v", tc.a, tc.b, tc.want, got)
		}
	}
}
