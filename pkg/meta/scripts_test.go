package meta

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

func TestScriptsCRUD(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	content := "log.info('a')\r\n\t// ünïcode \x00 kept as sent"
	for _, n := range []string{"zed", "alpha"} {
		if err := db.PutScript(Script{Name: n, Content: content, Type: "groovy"}, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.PutScript(Script{Name: "zed", Type: "groovy"}, true); !errors.Is(err, errs.ErrConflict) {
		t.Errorf("creating a taken name: %v", err)
	}
	if err := db.PutScript(Script{Name: "none", Type: "groovy"}, false); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("updating a missing script: %v", err)
	}
	if err := db.PutScript(Script{Name: "zed", Content: "changed", Type: "groovy"}, false); err != nil {
		t.Fatal(err)
	}
	// Stored across a reopen, in name order, content byte for byte.
	db.Close()
	if db, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	all, err := db.Scripts()
	if err != nil || len(all) != 2 || all[0].Name != "alpha" || all[0].Content != content || all[1].Content != "changed" {
		t.Fatalf("Scripts = %+v, %v", all, err)
	}
	if err := db.DeleteScript("alpha"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Script("alpha"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("deleted script: %v", err)
	}
	if err := db.DeleteScript("alpha"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("deleting again: %v", err)
	}
}
