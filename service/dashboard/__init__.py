"""The marketer dashboard: server-rendered pages under /dashboard, charts drawn as inline SVG."""
