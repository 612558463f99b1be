package sandbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"maunium.net/go/mautrix/id"
)

// Register creates the account @localpart:localhost with password, as a
// server admin if admin is set, through shared-secret registration
// (/_synapse/admin/v1/register, HMAC-SHA1 over a server nonce), which works
// while open registration is off.
//
// It is idempotent-friendly: if the user already exists it returns the user
// ID and no error, without checking or changing the password. Dendrite
// lower-cases the localpart. The device that registration logs in is logged
// out again, so the account starts with no devices and the clients under test
// see only their own.
func (s *Server) Register(ctx context.Context, localpart, password string, admin bool) (id.UserID, error) {
	if s.secret == "" {
		return "", fmt.Errorf("register %s: %s has no client_api.registration_shared_secret", localpart, configFile)
	}
	var nonce struct {
		Nonce string `json:"nonce"`
	}
	if err := s.call(ctx, http.MethodGet, "/_synapse/admin/v1/register", "", nil, &nonce); err != nil {
		return "", fmt.Errorf("register %s: get nonce: %w", localpart, err)
	}
	req := struct {
		Nonce    string `json:"nonce"`
		Username string `json:"username"`
		Password string `json:"password"`
		Admin    bool   `json:"admin"`
		MAC      string `json:"mac"`
	}{nonce.Nonce, localpart, password, admin, registrationMAC(s.secret, nonce.Nonce, localpart, password, admin)}
	var resp struct {
		UserID      id.UserID `json:"user_id"`
		AccessToken string    `json:"access_token"`
	}
	err := s.call(ctx, http.MethodPost, "/_synapse/admin/v1/register", "", req, &resp)
	if me, ok := errors.AsType[*matrixError](err); ok && me.Code == "M_USER_IN_USE" {
		return id.NewUserID(strings.ToLower(localpart), s.ServerName), nil
	}
	if err != nil {
		return "", fmt.Errorf("register %s: %w", localpart, err)
	}
	if resp.AccessToken != "" {
		if err := s.call(ctx, http.MethodPost, "/_matrix/client/v3/logout", resp.AccessToken, struct{}{}, nil); err != nil {
			return resp.UserID, fmt.Errorf("register %s: log out the registration device: %w", localpart, err)
		}
	}
	return resp.UserID, nil
}

// registrationMAC is the hex HMAC-SHA1, keyed by the shared secret, of
// nonce, user, password and "admin"/"notadmin" joined by NUL bytes
// (Synapse's admin register API, which Dendrite implements).
func registrationMAC(secret, nonce, user, password string, admin bool) string {
	role := "notadmin"
	if admin {
		role = "admin"
	}
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(strings.Join([]string{nonce, user, password, role}, "\x00")))
	return hex.EncodeToString(mac.Sum(nil))
}

// matrixError is a Matrix error response.
type matrixError struct {
	Status  int
	Code    string `json:"errcode"`
	Message string `json:"error"`
}

func (e *matrixError) Error() string {
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.Message)
}

// call sends a JSON request to the homeserver and decodes a JSON answer into
// out (if not nil). Non-2xx answers become *matrixError. Request bodies are
// never part of an error: they hold passwords and MACs.
func (s *Server) call(ctx context.Context, method, path, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		me := &matrixError{Status: resp.StatusCode}
		if json.Unmarshal(data, me) != nil || me.Code == "" {
			me.Code, me.Message = "M_UNKNOWN", strings.TrimSpace(string(data))
		}
		return me
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode %s %s: %w", method, path, err)
	}
	return nil
}
