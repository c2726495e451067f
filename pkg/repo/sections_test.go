package repo

import "testing"

func TestSectionCache(t *testing.T) {
	type s struct {
		On  bool `json:"on"`
		Max int  `json:"max"`
	}
	c := SectionCache[s]{Key: "x", Default: s{On: true}}
	var cfg Config
	if got := c.Of(cfg); got != (s{On: true}) {
		t.Fatalf("absent section: %+v, want the default", got)
	}
	cfg.SetSection("x", map[string]any{"max": 3})
	if got := c.Of(cfg); got != (s{On: true, Max: 3}) {
		t.Fatalf("section over the default: %+v", got)
	}
	cfg.SetSection("x", map[string]any{"on": false})
	if got := c.Of(cfg); got != (s{}) {
		t.Fatalf("changed section: %+v", got)
	}
}
