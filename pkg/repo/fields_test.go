package repo

import (
	"encoding/json"
	"reflect"
	"testing"
)

// An edit through a form changes what the form shows and keeps the rest;
// an authentication of another type replaces the old one whole.
func TestOverFields(t *testing.T) {
	fields := []Field{
		{Path: "online", Kind: FieldBool},
		{Path: "proxy.remoteUrl", Kind: FieldText},
		{Path: "proxy.contentMaxAge", Kind: FieldNumber},
		{Path: "httpClient.authentication.type", Kind: FieldSelect},
		{Path: "httpClient.authentication.username", Kind: FieldText},
		{Path: "httpClient.authentication.password", Kind: FieldPassword},
	}
	stored := `{"name":"p","format":"raw","type":"proxy","online":true,
		"proxy":{"remoteUrl":"http://a.example/","contentMaxAge":5,"metadataMaxAge":7},
		"httpClient":{"blocked":false,"autoBlock":true,"authentication":{"type":"ntlm","username":"u","password":"secret","ntlmHost":"h","ntlmDomain":"d"}},
		"cleanup":{"policyNames":["weekly"]},
		"dockerProxy":{"foreignLayerUrlWhitelist":["x"]}}`
	var old Config
	if err := json.Unmarshal([]byte(stored), &old); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, form string
		want       map[string]any
	}{
		{"same type keeps the rest of the object",
			`{"online":false,"proxy":{"remoteUrl":"http://b.example/"},"httpClient":{"authentication":{"type":"ntlm","username":"v"}}}`,
			map[string]any{"online": false, "proxy.remoteUrl": "http://b.example/", "proxy.metadataMaxAge": 7.0,
				"proxy.contentMaxAge": nil, "httpClient.authentication.username": "v",
				"httpClient.authentication.ntlmHost": "h", "httpClient.authentication.password": nil,
				"cleanup.policyNames": []any{"weekly"}, "dockerProxy.foreignLayerUrlWhitelist": []any{"x"}}},
		{"another type replaces it",
			`{"online":true,"httpClient":{"authentication":{"type":"username","username":"w","password":"p2"}}}`,
			map[string]any{"httpClient.authentication.username": "w", "httpClient.authentication.password": "p2",
				"httpClient.authentication.ntlmHost": nil, "httpClient.autoBlock": true}},
		{"none removes it",
			`{"online":true}`,
			map[string]any{"httpClient.authentication": nil, "httpClient.autoBlock": true, "cleanup.policyNames": []any{"weekly"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := OverFields(old, fields, []byte(tc.form))
			if err != nil {
				t.Fatal(err)
			}
			var tree map[string]any
			if err := json.Unmarshal(raw, &tree); err != nil {
				t.Fatal(err)
			}
			for path, want := range tc.want {
				got, ok := lookupPath(tree, path)
				if want == nil {
					if ok {
						t.Errorf("%s = %v, want it absent", path, got)
					}
					continue
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", path, got, want)
				}
			}
		})
	}
}
