-- bench/post.lua: wrk script for the post4k scenario: every request is a
-- POST with a 4096-byte body (Content-Length is added by wrk).
wrk.method = "POST"
wrk.body = string.rep("x", 4096)
wrk.headers["Content-Type"] = "application/octet-stream"
