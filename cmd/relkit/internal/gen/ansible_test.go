package gen

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestAnsibleNamesAndMigrations(t *testing.T) {
	t.Parallel()
	files, err := Ansible(App{Name: "my-app", Version: "1.0.0"}, AnsibleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSortedFunc(files, func(a, b File) int { return strings.Compare(a.Name, b.Name) }) {
		t.Errorf("want the files sorted by name, as every generator returns them")
	}
	byName := map[string]string{}
	for _, f := range files {
		byName[f.Name] = string(f.Data)
	}
	pb, ok := byName["my-app.yml"]
	if !ok {
		t.Fatalf("want my-app.yml, got %v", keys(byName))
	}
	// Ansible's role and group names take no '-'.
	if !strings.Contains(pb, "  hosts: my_app\n") || !strings.Contains(pb, "        name: my_app\n") {
		t.Errorf("my-app.yml: want group and role my_app:\n%s", pb)
	}
	if _, ok := byName["roles/my_app/tasks/switch.yml"]; !ok {
		t.Errorf("want roles/my_app/tasks/switch.yml, got %v", keys(byName))
	}
	// No migrations: no migrate play, no migrate tasks.
	if _, ok := byName["roles/my_app/tasks/migrate.yml"]; ok || strings.Contains(pb, "tasks_from: migrate") {
		t.Errorf("an app without migrations: want no migrate step, got files %v and\n%s", keys(byName), pb)
	}
	if sw := byName["roles/my_app/tasks/switch.yml"]; !strings.Contains(sw, "/bin/my-app switch {{ app_version }} -json") {
		t.Errorf("switch.yml: want the binary my-app called:\n%s", sw)
	}
	for name, data := range byName {
		if strings.Contains(data, "[%") || strings.Contains(data, "%]") {
			t.Errorf("%s: an unrendered [%% %%] placeholder is left", name)
		}
	}

	if _, err := Ansible(App{Name: "9lives", Version: "1"}, AnsibleOptions{}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "Ansible role") {
		t.Errorf("release name 9lives: want ErrInvalid naming Ansible's rule, got %v", err)
	}
	if _, err := Ansible(App{Name: "a", Version: "1"}, AnsibleOptions{Root: "srv/a"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("relative root: want ErrInvalid, got %v", err)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
