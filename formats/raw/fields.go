package raw

import "github.com/nexus-go/nexus-go/pkg/repo"

// Fields is the "raw" section: how browsers are told to handle downloads.
func (f *Format) Fields(string) []repo.Field {
	return []repo.Field{{Path: "raw.contentDisposition", Label: "Content disposition", Kind: repo.FieldSelect,
		Options: []string{"ATTACHMENT", "INLINE"}, Default: "ATTACHMENT", Section: "Raw",
		Help: "ATTACHMENT makes browsers save files; INLINE lets them show files."}}
}
