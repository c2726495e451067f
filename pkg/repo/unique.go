package repo

import "strings"

// UniqueSettings is implemented by formats with settings no two of their
// repositories may share (Docker's subdomain): Unique returns them for
// cfg, by field path ("docker.subdomain"), compared ignoring case.
type UniqueSettings interface {
	Unique(cfg Config) map[string]string
}

// checkUnique refuses cfg if another repository of its format has one of
// its unique settings; m.mu is held.
func (m *Manager) checkUnique(f Format, cfg *Config) error {
	us, ok := f.(UniqueSettings)
	if !ok {
		return nil
	}
	mine := us.Unique(*cfg)
	for _, r := range m.repos {
		other := r.Config()
		if other.Format != cfg.Format || strings.EqualFold(other.Name, cfg.Name) {
			continue
		}
		for field, v := range us.Unique(other) {
			if w, ok := mine[field]; ok && strings.EqualFold(v, w) {
				return fieldErr(field, "%s is used by repository %s", v, other.Name)
			}
		}
	}
	return nil
}
