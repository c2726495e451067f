package ui

// registerBrowse mounts the browse, component and search pages (they use
// the paged listings and the search index of issue 11's engine items).
func (u *UI) registerBrowse(g routes) {}
