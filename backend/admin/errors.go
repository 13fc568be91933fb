package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"sluice/backend/engine"
	"sluice/backend/store"
)

// apiError is the one shape every error reply takes.
type apiError struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
	// Script errors carry their place.
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	Source string `json:"source,omitempty"` // the source line
	Detail string `json:"detail,omitempty"` // the message with the source line and a caret
}

func (e *apiError) Error() string { return e.Message }

func newError(status int, format string, a ...any) *apiError {
	return &apiError{Status: status, Message: fmt.Sprintf(format, a...)}
}

func errBadRequest(format string, a ...any) *apiError {
	return newError(http.StatusBadRequest, format, a...)
}

func errNotFound(format string, a ...any) *apiError {
	return newError(http.StatusNotFound, format, a...)
}

// scriptError is a failure to load scripts: 400 with its place.
func scriptError(prefix string, err error) *apiError {
	e := &apiError{Status: http.StatusBadRequest, Message: prefix + err.Error()}
	var se *engine.ScriptError
	if errors.As(err, &se) {
		e.File, e.Line, e.Column, e.Source = se.File, se.Line, se.Column, se.Source
		e.Detail = se.Detail()
	}
	return e
}

// storeError maps the store's errors onto statuses.
func storeError(err error) error {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, store.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, store.ErrInvalid):
		status = http.StatusBadRequest
	case errors.Is(err, store.ErrExists), errors.Is(err, store.ErrConflict):
		status = http.StatusConflict
	case errors.Is(err, store.ErrReadOnly):
		status = http.StatusForbidden
	case errors.Is(err, store.ErrPrecondition):
		status = http.StatusPreconditionFailed
	case errors.Is(err, store.ErrTooLarge):
		status = http.StatusRequestEntityTooLarge
	}
	return &apiError{Status: status, Message: err.Error()}
}

// handleError writes any error a handler returns in the one shape.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var ae *apiError
	var he *echo.HTTPError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &mbe):
		ae = newError(http.StatusRequestEntityTooLarge, "request body larger than %d bytes", mbe.Limit)
	case errors.As(err, &he):
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && m != "" {
			msg = m
		}
		if he.Code == http.StatusMethodNotAllowed {
			msg = fmt.Sprintf("method %s is not allowed on %s", c.Request().Method, c.Request().URL.Path)
		}
		ae = &apiError{Status: he.Code, Message: msg}
	default:
		ae = &apiError{Status: http.StatusInternalServerError, Message: err.Error()}
	}
	body, _ := json.Marshal(ae)
	h := c.Response().Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	if ae.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="sluice"`)
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(ae.Status)
		return
	}
	c.Blob(ae.Status, "application/json", append(body, '\n'))
}
