package relspec

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckNameAndVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s             string
		name, version bool
	}{
		{"links", true, true},
		{"my-app_2.x", true, true},
		{"1.2.0", true, true},
		{"1.2.0+build.7", false, true},
		{"1.2.0-rc.1", true, true},
		{"", false, false},
		{".hidden", false, false},
		{"-x", false, false},
		{"a/b", false, false},
		{"a*", false, false},
		{"a b", false, false},
		{"trailing.", false, true},
		{"RELEASES", true, false},
		{strings.Repeat("a", 63), true, true},
		{strings.Repeat("a", 64), false, true},
		{strings.Repeat("a", 128), false, true},
		{strings.Repeat("a", 129), false, false},
		{"ü", false, false},
	}
	for _, tt := range tests {
		if got := CheckName(tt.s) == nil; got != tt.name {
			t.Errorf("CheckName(%q): want ok=%v, got %v", tt.s, tt.name, got)
		}
		if got := CheckVersion(tt.s) == nil; got != tt.version {
			t.Errorf("CheckVersion(%q): want ok=%v, got %v", tt.s, tt.version, got)
		}
	}
	if err := CheckVersion("a/b"); !errors.Is(err, ErrInvalidName) || !strings.Contains(err.Error(), `"a/b"`) {
		t.Errorf("CheckVersion error: want ErrInvalidName naming the version, got %v", err)
	}
}

func TestParseMigrationFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want MigrationFile
		ok   bool
	}{
		{"001_create_links.up.sql", MigrationFile{"001", 1, "create_links", true}, true},
		{"20240101120000_add.down.sql", MigrationFile{"20240101120000", 20240101120000, "add", false}, true},
		{"3_a_b.up.sql", MigrationFile{"3", 3, "a_b", true}, true},
		{"001_.up.sql", MigrationFile{}, false},
		{"_x.up.sql", MigrationFile{}, false},
		{"001x_a.up.sql", MigrationFile{}, false},
		{"001_a.sql", MigrationFile{}, false},
		{"001_a.up.SQL", MigrationFile{}, false},
		{"README.md", MigrationFile{}, false},
		{"99999999999999999999_a.up.sql", MigrationFile{}, false},
		{"9223372036854775808_a.up.sql", MigrationFile{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseMigrationFile(tt.name)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseMigrationFile(%q): want %+v %v, got %+v %v", tt.name, tt.want, tt.ok, got, ok)
		}
	}
}

func TestTarballName(t *testing.T) {
	t.Parallel()
	if want, got := "links-1.2.0-linux-amd64.tar.gz", TarballName("links", "1.2.0", "linux", "amd64"); want != got {
		t.Errorf("want %q, got %q", want, got)
	}
}
