package schema_test

import (
	"errors"
	"testing"

	"github.com/vr-paas/vr/pkg/schema"
)

func TestErrorString(t *testing.T) {
	cause := errors.New("boom")
	tests := []struct {
		e    schema.Error
		want string
	}{
		{schema.Error{File: "app.yaml", Line: 4, Key: "version", Msg: "got a float"}, `app.yaml:4: key "version": got a float`},
		{schema.Error{File: "app.yaml", Key: "version", Msg: "required key is missing"}, `app.yaml: key "version": required key is missing`},
		{schema.Error{File: "Procfile", Line: 3, Msg: "malformed line"}, `Procfile:3: malformed line`},
		{schema.Error{Key: "port", Msg: "out of range"}, `key "port": out of range`},
		{schema.Error{Line: 2, Msg: "x"}, `line 2: x`},
		{schema.Error{Msg: "x", Err: cause}, `x`},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	e := &schema.Error{Msg: "x", Err: cause}
	if !errors.Is(e, cause) || !e.BadInput() {
		t.Errorf("Unwrap or BadInput broken")
	}
}
