package main

import (
	"context"
	"flag"

	"github.com/relkit/relkit/cmd/relkit/internal/gen"
)

// ansibleFlags declares the flags of `relkit gen ansible`: a playbook and
// role that roll a release out to several hosts (gen.Ansible).
func ansibleFlags(fs *flag.FlagSet) func(context.Context, *project, gen.App) ([]gen.File, error) {
	var o gen.AnsibleOptions
	fs.StringVar(&o.Root, "root", "", "app_root on the hosts, and the root of the role's systemd unit (default /opt/NAME)")
	fs.StringVar(&o.User, "user", "", "user the systemd unit runs the release as (default: the release name)")
	return func(_ context.Context, _ *project, app gen.App) ([]gen.File, error) {
		return gen.Ansible(app, o)
	}
}
