package gen

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"text/template"
)

// The Ansible files are Jinja templates themselves, so relkit's own
// placeholders use [% %] instead of {{ }}.
//
//go:embed all:ansible
var ansibleFS embed.FS

// AnsibleOptions configure [Ansible]. The zero value is usable.
type AnsibleOptions struct {
	// Root is the default app_root: where the release lives on each host,
	// and the root the role's systemd unit runs. Default /opt/NAME.
	Root string
	// User runs the release under systemd (app_init: systemd). Default:
	// the release name.
	User string
}

var ansibleIdentRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Ansible returns a playbook NAME.yml, the role roles/IDENT/ it runs and an
// example inventory, where IDENT is the release name in lower case with '-'
// and '.' as '_' (Ansible's rule for role and group names). The playbook
// rolls app_version out to the hosts of the group IDENT: it stages the
// release everywhere (`unpack`), checks its configuration everywhere
// (`config`), migrates once, then switches a canary and batches of 30%
// (`switch`), each host drained in haproxy and gated by `health -ready` and
// the version `releases -json` reports; the first failure stops it. A
// fresh host gets the tarball unpacked over app_root and `daemon` (or the
// systemd unit [Systemd] writes). Every change it reports comes from the
// commands' -json answers, so a re-run reports changed=0.
func Ansible(app App, opts AnsibleOptions) ([]File, error) {
	app, err := app.withDefaults()
	if err != nil {
		return nil, err
	}
	ident := strings.NewReplacer("-", "_", ".", "_").Replace(strings.ToLower(app.Name))
	if !ansibleIdentRE.MatchString(ident) {
		return nil, invalid([]string{fmt.Sprintf("release name %q gives %q, not an Ansible role or group name (a lower-case letter, then letters, digits and '_')", app.Name, ident)})
	}
	if opts.Root == "" {
		opts.Root = "/opt/" + app.Name
	}
	if opts.User == "" {
		opts.User = strings.ToLower(app.Name)
	}
	// The unit checks Root and User; its root is the role's default app_root.
	units, err := Systemd(app, SystemdOptions{Root: opts.Root, User: opts.User})
	if err != nil {
		return nil, err
	}
	data := map[string]any{
		"Name": app.Name, "Ident": ident, "Version": app.Version, "Port": app.Port,
		"Root": opts.Root, "User": opts.User, "Migrations": app.Migrations,
		"Settings": app.Settings(), "Secrets": app.Secrets(),
	}
	var files []File
	err = fs.WalkDir(ansibleFS, "ansible", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel := strings.TrimPrefix(p, "ansible/")
		if rel == "role/tasks/migrate.yml" && !app.Migrations {
			return nil
		}
		src, err := ansibleFS.ReadFile(p)
		if err != nil {
			return err
		}
		t, err := template.New(rel).Delims("[%", "%]").Option("missingkey=error").Parse(string(src))
		if err != nil {
			return fmt.Errorf("ansible template %s: %w", rel, err)
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return fmt.Errorf("render ansible %s: %w", rel, err)
		}
		files = append(files, File{Name: ansibleName(rel, app.Name, ident), Data: buf.Bytes()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, u := range units {
		if u.Name == app.Name+".service" {
			files = append(files, File{Name: path.Join("roles", ident, "files", u.Name), Data: u.Data})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return files, nil
}

// ansibleName maps a template's path to the generated file's.
func ansibleName(rel, name, ident string) string {
	switch rel {
	case "playbook.yml":
		return name + ".yml"
	case "inventory.ini":
		return "inventory.example.ini"
	}
	return path.Join("roles", ident, strings.TrimPrefix(rel, "role/"))
}
