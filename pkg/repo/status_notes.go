package repo

import "strings"

// StatusNoter is an Observer that may explain a repository's status (a
// connector port it cannot open); the note is the status's reason.
type StatusNoter interface {
	StatusNote(cfg Config) string
}

// addNoter keeps o for statusNote if it is a StatusNoter; m.mu is held.
func (m *Manager) addNoter(o Observer) {
	n, ok := o.(StatusNoter)
	if !ok {
		return
	}
	var noters []StatusNoter
	if old := m.noters.Load(); old != nil {
		noters = append(noters, *old...)
	}
	noters = append(noters, n)
	m.noters.Store(&noters)
}

// statusNote is what the observers note about cfg's status, if anything.
func (m *Manager) statusNote(cfg Config) string {
	noters := m.noters.Load()
	if noters == nil {
		return ""
	}
	var notes []string
	for _, n := range *noters {
		if note := n.StatusNote(cfg); note != "" {
			notes = append(notes, note)
		}
	}
	return strings.Join(notes, "; ")
}
