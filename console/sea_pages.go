package console

// seaPages are the SEA inbox (psea only) and the audit log (admin).
func (w *Web) seaPages() []Route { return nil }
