package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// nginxPath finds Debian's nginx (in /usr/sbin, which a user's PATH may lack).
func nginxPath() (string, error) {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx", nil
	}
	return "", errors.New("nginx is not installed (Debian: apt-get install nginx)")
}

// freePort returns a loopback port nothing listens on right now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startNginx serves the reference bodies as static files from a private
// prefix under dir (no root needed): the identity file and its .gz twin,
// with gzip_static, as a site would publish a pre-rendered feed.
func startNginx(ctx context.Context, dir string, ref *reference, identity, gz []byte) (*process, error) {
	bin, err := nginxPath()
	if err != nil {
		return nil, err
	}
	prefix := filepath.Join(dir, "nginx")
	file := filepath.Join(prefix, "www", filepath.FromSlash(ref.Path))
	for _, d := range []string{filepath.Dir(file), filepath.Join(prefix, "tmp"), filepath.Join(prefix, "logs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(file, identity, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(file+".gz", gz, 0o644); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	full := ref.Headers["200 full"]
	conf := fmt.Sprintf(`%sworker_processes auto;
daemon off;
pid %[2]s/nginx.pid;
error_log %[2]s/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  types { %[3]s rss; }
  default_type application/octet-stream;
  client_body_temp_path %[2]s/tmp/body;
  proxy_temp_path %[2]s/tmp/proxy;
  fastcgi_temp_path %[2]s/tmp/fastcgi;
  uwsgi_temp_path %[2]s/tmp/uwsgi;
  scgi_temp_path %[2]s/tmp/scgi;
  sendfile on;
  tcp_nodelay on;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  server {
    listen 127.0.0.1:%[4]d;
    root %[2]s/www;
    location / {
      gzip_static on;
      gzip_vary on;
      add_header Cache-Control %[5]q;
      add_header X-Content-Type-Options nosniff;
    }
  }
}
`, userLine(), prefix, strings.SplitN(full.Get("Content-Type"), ";", 2)[0], port, full.Get("Cache-Control"))
	confPath := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-p", prefix, "-c", confPath, "-e", filepath.Join(prefix, "logs", "error.log"))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start nginx: %w", err)
	}
	p := &process{cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	for deadline := time.Now().Add(10 * time.Second); ; {
		res, err := http.Get(p.base + ref.Path)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return p, nil
			}
			err = errors.New(res.Status)
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("nginx did not serve %s: %v (see %s/logs/error.log)", ref.Path, err, prefix)
		}
		select {
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// userLine keeps nginx's workers as the invoking user when that is root
// (nginx would otherwise switch them to nobody, who cannot read a private
// temporary folder); as any other user nginx ignores the directive.
func userLine() string {
	if os.Geteuid() == 0 {
		return "user root root;\n"
	}
	return ""
}
