package supervisor

import "time"

// Recorder makes a switch of releases durable: the supervisor, which knows
// the moment the new generation became ready, commits the switch through
// it whatever happens to the command that asked for it, and reports each
// switch's outcome. See [Config.Recorder].
type Recorder interface {
	// Commit records rel as the release that runs and that the next boot
	// starts (for an assembled release: RELEASES current and permanent,
	// and the bin/NAME link), atomically. It is called once the new
	// generation is ready, before the old one is stopped; an error calls
	// the switch off, and the old generation keeps serving.
	Commit(rel Release) error
	// Record reports a switch's outcome, committed or failed.
	Record(r SwitchRecord)
}

// SwitchRecord is the outcome of one switch.
type SwitchRecord struct {
	// Op is "upgrade" or "rollback" (probation).
	Op       string
	From, To Release
	Started  time.Time
	Took     time.Duration
	// Err is nil when the switch was committed.
	Err error
}

// Result is "ok", or "failed: " and the error.
func (r SwitchRecord) Result() string {
	if r.Err == nil {
		return "ok"
	}
	return "failed: " + r.Err.Error()
}

func (s *Supervisor) commit(rel Release) error {
	if s.cfg.Recorder == nil {
		return nil
	}
	return s.cfg.Recorder.Commit(rel)
}

func (s *Supervisor) record(r SwitchRecord) {
	if s.cfg.Recorder == nil {
		return
	}
	r.Took = time.Since(r.Started)
	s.cfg.Recorder.Record(r)
}
