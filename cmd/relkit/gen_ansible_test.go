package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ansibleEnv keeps Ansible's own state (~/.ansible, its temporary files)
// inside the test's directory.
func ansibleEnv(dir string) []string {
	return append(os.Environ(), "ANSIBLE_HOME="+filepath.Join(dir, "home"), "ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, "tmp"),
		"ANSIBLE_NOCOLOR=1", "NO_COLOR=1", "ANSIBLE_CONFIG="+filepath.Join(dir, "none.cfg"))
}

// TestGenAnsiblePassesSyntaxCheckAndLint generates the playbook for an app
// with migrations and two variables of its own, and has Ansible's own tools
// judge it: ansible-playbook --syntax-check, and ansible-lint with its
// strictest profile (production). The example inventory names every
// variable the app requires or keeps secret.
func TestGenAnsiblePassesSyntaxCheckAndLint(t *testing.T) {
	t.Parallel()
	playbook := needTool(t, "ansible-playbook")
	dir := t.TempDir()
	out := filepath.Join(dir, "deploy")
	mustRelkit(t, "gen", "ansible", "-root", "/srv/notes", "-o", out, notesPkg)
	for _, f := range []string{
		"notes.yml", "inventory.example.ini",
		"roles/notes/defaults/main.yml", "roles/notes/templates/env.j2", "roles/notes/files/notes.service",
		"roles/notes/tasks/stage.yml", "roles/notes/tasks/preflight.yml", "roles/notes/tasks/migrate.yml", "roles/notes/tasks/switch.yml", "roles/notes/tasks/systemd.yml",
	} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("gen ansible: want %s: %v", f, err)
		}
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	inventory, defaults, unit := read("inventory.example.ini"), read("roles/notes/defaults/main.yml"), read("roles/notes/files/notes.service")
	for _, v := range notesVariables {
		if !strings.Contains(inventory, `"`+v+`": "..."`) {
			t.Errorf("inventory.example.ini: app_env does not name %s:\n%s", v, inventory)
		}
		if !strings.Contains(defaults, "# "+v+": ") {
			t.Errorf("roles/notes/defaults/main.yml: app_env's comment does not name %s", v)
		}
	}
	for _, want := range []string{"app_root: /srv/notes\n", "app_user: notes\n", `  PORT: "`} {
		if !strings.Contains(defaults, want) {
			t.Errorf("roles/notes/defaults/main.yml: want %q", want)
		}
	}
	if !strings.Contains(unit, "ExecStart=/srv/notes/bin/notes start\n") {
		t.Errorf("roles/notes/files/notes.service: want the unit of root /srv/notes, got\n%s", unit)
	}
	pb := read("notes.yml")
	for _, want := range []string{"serial: [1, \"30%\"]\n", "max_fail_percentage: 0\n", "hosts: \"notes[0]\"\n", "tasks_from: migrate\n"} {
		if !strings.Contains(pb, want) {
			t.Errorf("notes.yml: want %q", want)
		}
	}

	cmd := exec.Command(playbook, "-i", "inventory.example.ini", "notes.yml", "--syntax-check", "-e", "app_version=1.4.0")
	cmd.Dir, cmd.Env = out, ansibleEnv(dir)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ansible-playbook --syntax-check: %v\n%s", err, b)
	}
	lint := needTool(t, "ansible-lint")
	cmd = exec.Command(lint, "--nocolor", "-p", "--profile", "production", "notes.yml")
	cmd.Dir, cmd.Env = out, ansibleEnv(dir)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ansible-lint --profile production: %v\n%s", err, b)
	}
}
