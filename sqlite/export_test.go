package sqlite

// SetDerivedOff turns the writer's attribute index and request rollups off
// or on, for the write-cost benchmark.
func SetDerivedOff(off bool) { derivedOff = off }
