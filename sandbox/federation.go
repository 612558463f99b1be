package sandbox

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Files of a federating sandbox (Options.Federation).
const (
	tlsCertFile = "tls.crt"
	tlsKeyFile  = "tls.key"
	fedPortFile = "federation.port"
)

// ensureFederation returns the federation port of dir, picking a free one
// and writing a self-signed certificate for 127.0.0.1 the first time. The
// port is part of the server name, so it never changes for a folder.
func ensureFederation(dir string) (int, error) {
	path := filepath.Join(dir, fedPortFile)
	data, err := os.ReadFile(path)
	if err == nil {
		port, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || port <= 0 || port > 65535 {
			return 0, fmt.Errorf("bad federation port in %s", path)
		}
		return port, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("read federation port: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, configFile)); err == nil {
		return 0, fmt.Errorf("%s was made without federation; use a new folder", dir)
	}
	port, err := pickPort(dir, false)
	if err != nil {
		return 0, err
	}
	if err := writeTLS(dir); err != nil {
		return 0, err
	}
	if err := writeFileAtomic(path, []byte(strconv.Itoa(port)+"\n")); err != nil {
		return 0, fmt.Errorf("write federation port: %w", err)
	}
	return port, nil
}

// writeTLS writes a self-signed certificate for 127.0.0.1 and its key.
func writeTLS(dir string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("tls key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("tls certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("tls key: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, tlsCertFile), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})); err != nil {
		return fmt.Errorf("write tls certificate: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, tlsKeyFile), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})); err != nil {
		return fmt.Errorf("write tls key: %w", err)
	}
	return nil
}
