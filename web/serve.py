#!/usr/bin/env python3
"""Serves the page (web/www) on 127.0.0.1 and stores what it POSTs to /report/TAG.

usage: python3 web/serve.py [PORT] [REPORT_DIR] [FILES_DIR]   (default 8000, web/reports)
FILES_DIR, when given, is served under /files/ (the tests' CIFAR-10 files).
"""
import http.server
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, 'www')
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
REPORTS = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, 'reports')
FILES = sys.argv[3] if len(sys.argv) > 3 else None


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      '.wasm': 'application/wasm', '.js': 'text/javascript'}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=ROOT, **kwargs)

    def translate_path(self, path):
        if FILES and path.startswith('/files/'):
            self.directory, path = FILES, path.removeprefix('/files')
        else:
            self.directory = ROOT
        return super().translate_path(path)

    def do_POST(self):
        tag = self.path.removeprefix('/report/')
        if not self.path.startswith('/report/') or not tag.replace('-', '').replace('_', '').isalnum():
            self.send_error(404, 'POST only to /report/TAG (letters, digits, - and _)')
            return
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        os.makedirs(REPORTS, exist_ok=True)
        path = os.path.join(REPORTS, tag + '.json')
        with open(path + '.tmp', 'wb') as f:
            f.write(body)
        os.replace(path + '.tmp', path)
        self.send_response(204)
        self.end_headers()

    def end_headers(self):
        self.send_header('Cache-Control', 'no-store')
        super().end_headers()

    def log_message(self, *args):
        pass


print(f'serving {ROOT} on http://127.0.0.1:{PORT}/', flush=True)
http.server.ThreadingHTTPServer(('127.0.0.1', PORT), Handler).serve_forever()
