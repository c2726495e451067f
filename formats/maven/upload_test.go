package maven

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

func uploadFile(content string) repo.UploadFile {
	return repo.UploadFile{Size: int64(len(content)), Open: func() (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(content)), nil
	}}
}

const uploadedPOM = `<project><modelVersion>4.0.0</modelVersion><groupId>org.up</groupId>
<artifactId>from-pom</artifactId><version>2.0</version><packaging>jar</packaging></project>`

func TestUploadComponent(t *testing.T) {
	fx := newFixture(t)
	ctx := auth.WithPrincipal(t.Context(), auth.System())
	r := fx.hosted("rel", policyRelease, "allow_once")
	fx.hosted("snap", policySnapshot, "allow")
	for _, tc := range []struct {
		name, repository string
		fields           map[string]string
		files            map[string]string
		field            string   // of the refusal, "" for success
		stored           []string // paths then present
	}{
		{"generated pom", "rel", map[string]string{"maven2.groupId": "org.up", "maven2.artifactId": "a", "maven2.version": "1.0",
			"maven2.generate-pom": "true", "maven2.asset1.extension": "jar", "maven2.asset2.extension": "jar", "maven2.asset2.classifier": "sources"},
			map[string]string{"maven2.asset1": "JAR", "maven2.asset2": "SRC"}, "",
			[]string{"org/up/a/1.0/a-1.0.jar", "org/up/a/1.0/a-1.0-sources.jar", "org/up/a/1.0/a-1.0.pom", "org/up/a/maven-metadata.xml"}},
		{"coordinates from the pom", "rel", map[string]string{"maven2.asset1.extension": "pom", "maven2.asset2.extension": "jar"},
			map[string]string{"maven2.asset1": uploadedPOM, "maven2.asset2": "JAR2"}, "",
			[]string{"org/up/from-pom/2.0/from-pom-2.0.pom", "org/up/from-pom/2.0/from-pom-2.0.jar"}},
		{"no extension", "rel", map[string]string{"maven2.groupId": "org.up", "maven2.artifactId": "b", "maven2.version": "1.0"},
			map[string]string{"maven2.asset1": "X"}, "extension", nil},
		{"no group", "rel", map[string]string{"maven2.artifactId": "b", "maven2.version": "1.0", "maven2.asset1.extension": "jar"},
			map[string]string{"maven2.asset1": "X"}, "groupId", nil},
		{"snapshot", "snap", map[string]string{"maven2.groupId": "org.up", "maven2.artifactId": "b", "maven2.version": "1.0-SNAPSHOT",
			"maven2.asset1.extension": "jar"}, map[string]string{"maven2.asset1": "X"}, "version", nil},
		{"same path twice", "rel", map[string]string{"maven2.groupId": "org.up", "maven2.artifactId": "c", "maven2.version": "1.0",
			"maven2.asset1.extension": "jar", "maven2.asset2.extension": "jar"}, map[string]string{"maven2.asset1": "1", "maven2.asset2": "2"},
			"extension", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := &repo.UploadForm{Fields: tc.fields, Files: map[string]repo.UploadFile{}}
			for k, v := range tc.files {
				form.Files[k] = uploadFile(v)
			}
			err := fx.M.UploadComponent(ctx, tc.repository, form)
			var fe *errs.FieldError
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("upload: %v", err)
			case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field):
				t.Fatalf("upload: %v, want a refusal of %s", err, tc.field)
			}
			for _, p := range tc.stored {
				fx.mustGet(r, p)
			}
		})
	}
	if pom := fx.mustGet(r, "org/up/a/1.0/a-1.0.pom"); !strings.Contains(pom, "<artifactId>a</artifactId>") {
		t.Errorf("generated POM:\n%s", pom)
	}
	if got := fx.mustGet(r, "org/up/a/1.0/a-1.0-sources.jar"); got != "SRC" {
		t.Errorf("sources jar %q", got)
	}
}
