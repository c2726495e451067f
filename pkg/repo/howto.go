package repo

import "github.com/nexus-go/nexus-go/pkg/meta"

// HowToTarget is what a format's usage snippets are written for: one
// repository as this server is addressed, and optionally one of its
// components.
type HowToTarget struct {
	Config Config
	// URL is the repository's URL on the main port, ending in "/"
	// ("http://nexus.example:8081/repository/raw-hosted/").
	URL string
	// Host is the main port's host:port as the client addressed it
	// (without the context path, which URL has).
	Host string
	// ConnectorHost is host:port of the repository's connector (Docker),
	// the HTTPS one when it has both, "" when it has none.
	ConnectorHost string
	// Component is the component the snippets are for, nil for the
	// repository as a whole.
	Component *meta.Component
}

// Snippet is one block a user copies and pastes as it is: a command line,
// a settings file.
type Snippet struct {
	// ID names the snippet in the page (data-snippet): stable, such as
	// "docker-login" or "maven-settings"; "use" for a component's line.
	ID    string
	Title string
	Text  string
}

// HowTo is implemented by formats that tell users how to use their
// repositories: for a repository (Component nil) its login, upload and
// client configuration lines; for a component, how to fetch it (one
// snippet with ID "use").
type HowTo interface {
	HowTo(t HowToTarget) []Snippet
}

// Credential placeholders of the snippets: shell variables for command
// lines, Maven's environment properties for settings.xml, and npm's
// environment expansion for .npmrc (NEXUS_AUTH is base64 of user:password).
const (
	ShellUser     = "$NEXUS_USER"
	ShellPassword = "$NEXUS_PASSWORD"
)
