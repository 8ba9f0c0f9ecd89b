package release

import "context"

// command is one command of the command line. Each lives in its own file,
// named for it, as a type holding its flags.
type command interface {
	run(ctx context.Context, r *runner, args []string) error
}

// entry is one line of the command table.
type entry struct {
	name, summary string
	new           func() command
	hidden        bool
}

// commands lists the commands in the order help shows them:
// lifecycle, switching, tasks, migrations, information.
func (r *runner) commands() []entry {
	noMigrations := r.app.migrations == nil
	return []entry{
		{"start", startSummary, func() command { return &startCommand{} }, false},
		{"health", healthSummary, func() command { return &healthCommand{} }, false},
		{"daemon", daemonSummary, func() command { return &daemonCommand{} }, false},
		{"stop", stopSummary, func() command { return &stopCommand{} }, false},
		{"pid", pidSummary, func() command { return &pidCommand{} }, false},
		{"restart", restartSummary, func() command { return &restartCommand{} }, false},
		{"upgrade", upgradeSummary, func() command { return &upgradeCommand{} }, false},
		{"downgrade", downgradeSummary, func() command { return &downgradeCommand{} }, false},
		{"switch", switchSummary, func() command { return &switchCommand{} }, false},
		{"unpack", unpackSummary, func() command { return &unpackCommand{} }, false},
		{"releases", releasesSummary, func() command { return &releasesCommand{} }, false},
		{"maintenance", maintenanceSummary, func() command { return &maintenanceCommand{} }, false},
		{"debug", debugSummary, func() command { return &debugCommand{} }, false},
		{"rpc", rpcSummary, func() command { return &rpcCommand{} }, false},
		{"eval", evalSummary, func() command { return &evalCommand{} }, false},
		{"migrate", migrateSummary, func() command { return &migrateCommand{} }, noMigrations},
		{"rollback", rollbackSummary, func() command { return &rollbackCommand{} }, noMigrations},
		{"config", configSummary, func() command { return &configCommand{} }, false},
		{"version", versionSummary, func() command { return &versionCommand{} }, false},
		{"gen-secret", genSecretSummary, func() command { return &genSecretCommand{} }, false},
		{"help", helpSummary, func() command { return &helpCommand{} }, false},
		{infoCommandName, infoSummary, func() command { return &infoCommand{} }, true},
		{superviseCommandName, superviseSummary, func() command { return &superviseCommand{} }, true},
	}
}
