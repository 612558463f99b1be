package sandbox

import "context"

// Secret lets the external tests check that the registration secret stays
// out of the log.
func (s *Server) Secret() string { return s.secret }

// Answers says whether the homeserver answers on its URL.
func (s *Server) Answers(ctx context.Context) bool { return s.answers(ctx) }
