package supervisor

import (
	"fmt"
	"time"
)

// rollback is probation's answer to crashed, the new release's generation
// that crashed within Config.Probation of its upgrade: it switches back to
// prev (still installed), commits that through the Recorder, and boots it
// at once. It returns the new generation; when that is not ready, the
// error says why and the generation has exited (the heart restarts it).
func (s *Supervisor) rollback(crashed *generation, prev Release) (*generation, error) {
	log := s.cfg.Logger
	began := time.Now()
	msg := fmt.Sprintf("probation: %s %s crashed %s after the upgrade (%s); switching back to %s",
		s.cfg.Name, crashed.rel.Version, time.Since(crashed.started).Round(time.Millisecond), crashed.describe(), prev.Version)
	log.Error(msg, "generation", crashed.n, "pid", crashed.pid, "from", crashed.rel.Version, "to", prev.Version)
	s.notify("STATUS=" + msg)
	s.setCurrent(nil)
	s.mu.Lock()
	s.rel = prev
	s.mu.Unlock()
	rec := SwitchRecord{Op: "rollback", From: crashed.rel, To: prev, Started: began}
	if err := s.commit(prev); err != nil {
		log.Error("probation: recording the switch back failed; RELEASES and bin/ may still name the crashed release", "version", crashed.rel.Version, "err", err)
		rec.Err = err
	}
	g := s.boot(prev, "")
	if err := s.waitReady(g, s.stopc, s.cfg.ReadyTimeout, s.cfg.ReadyTimeoutSetting); err != nil {
		if rec.Err == nil {
			rec.Err = err
		}
		s.record(rec)
		return g, err
	}
	s.record(rec)
	s.setCurrent(g)
	done := fmt.Sprintf("probation: switched back to %s, which serves again (generation %d, pid %d); %s crashed after its upgrade and is not started again until you upgrade to it",
		prev.Version, g.n, g.pid, crashed.rel.Version)
	log.Error(done, "generation", g.n, "pid", g.pid, "version", prev.Version)
	s.notifyReady(g)
	s.notify("STATUS=" + s.cfg.Name + " " + done)
	return g, nil
}
