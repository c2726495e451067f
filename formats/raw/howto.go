package raw

import (
	"strings"

	"github.com/nexus-go/nexus-go/pkg/repo"
)

// HowTo gives curl lines: upload (hosted) and download, or for a
// component (a file) its download.
func (f *Format) HowTo(t repo.HowToTarget) []repo.Snippet {
	creds := `-u "` + repo.ShellUser + ":" + repo.ShellPassword + `"`
	if t.Component != nil {
		return []repo.Snippet{{ID: "use", Title: "Download", Text: "curl " + creds + " -O " + t.URL + strings.TrimPrefix(t.Component.Name, "/")}}
	}
	var out []repo.Snippet
	if t.Config.Type == repo.Hosted {
		out = append(out, repo.Snippet{ID: "curl-upload", Title: "Upload a file",
			Text: "curl " + creds + " --upload-file ./file.txt " + t.URL + "path/to/file.txt"})
	}
	return append(out, repo.Snippet{ID: "curl-download", Title: "Download a file",
		Text: "curl " + creds + " -O " + t.URL + "path/to/file.txt"})
}
