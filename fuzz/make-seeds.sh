#!/bin/sh
# Writes the seed corpora under fuzz/seeds/ (committed; run again after
# changing this file). Each seed starts with the target's 4-byte prefix
# (see the comment at the top of fuzz/fuzz_http.c and fuzz/fuzz_proxy.c).
# Files named found-* are inputs a fuzzer found, kept as they came: this
# script leaves them alone.
set -eu
cd "$(dirname "$0")"
H=seeds/fuzz_http
P=seeds/fuzz_proxy
mkdir -p "$H" "$P"
find "$H" "$P" -type f ! -name 'found-*' -delete

# seed DIR NAME PREFIX BODY: PREFIX and BODY in printf %b notation.
seed() {
    printf '%b%b' "$3" "$4" >"$1/$2"
}

CRLF='\r\n'
GET="GET /a?q=1 HTTP/1.1${CRLF}Host: a.test${CRLF}User-Agent: f${CRLF}X-Request-Id: abc-1${CRLF}${CRLF}"
POST_CL="POST /api/x HTTP/1.1${CRLF}Host: strip.test${CRLF}Content-Length: 5${CRLF}${CRLF}hello"
CHUNKED="POST /a HTTP/1.1${CRLF}Host: a.test${CRLF}Transfer-Encoding: chunked${CRLF}Trailer: X-T${CRLF}${CRLF}5;ext=1${CRLF}hello${CRLF}6;a=\"b\"${CRLF} world${CRLF}0${CRLF}X-T: 1${CRLF}${CRLF}"
UPGRADE="GET /a/chat HTTP/1.1${CRLF}Host: x${CRLF}Connection: Upgrade${CRLF}Upgrade: websocket${CRLF}Sec-WebSocket-Version: 13${CRLF}${CRLF}"
HTTP10="GET /a HTTP/1.0${CRLF}Connection: keep-alive${CRLF}Keep-Alive: timeout=5${CRLF}${CRLF}"
HTTP10_CLOSE="GET /a/old HTTP/1.0${CRLF}${CRLF}"
ABSOLUTE="OPTIONS http://a.test:8080/p?x=1 HTTP/1.1${CRLF}Host: other${CRLF}Connection: close, X-Drop${CRLF}X-Drop: 1${CRLF}TE: trailers${CRLF}Proxy-Connection: keep-alive${CRLF}X-Forwarded-For: 1.2.3.4${CRLF}X-Forwarded-For: 5.6.7.8${CRLF}Referer: http://r/${CRLF}${CRLF}"
EXPECT="PUT /a/up HTTP/1.1${CRLF}Host: x${CRLF}Expect: 100-continue${CRLF}Content-Length: 3${CRLF}${CRLF}abc"
HEAD_REQ="HEAD /a HTTP/1.1${CRLF}Host: x${CRLF}${CRLF}"
DEAD="GET / HTTP/1.1${CRLF}Host: dead.test${CRLF}${CRLF}"
RETRY="DELETE /r HTTP/1.1${CRLF}Host: x.dead.test${CRLF}${CRLF}"
LIMITED="GET /q HTTP/1.1${CRLF}Host: limited.test${CRLF}${CRLF}"
NOROUTE="GET /nowhere HTTP/1.1${CRLF}Host: unknown.test${CRLF}${CRLF}"
BAD_FOLD="GET /a HTTP/1.1${CRLF}Host: x${CRLF}X: a${CRLF} folded${CRLF}${CRLF}"
BIG_CL="POST /a HTTP/1.1${CRLF}Host: x${CRLF}Content-Length: 999999${CRLF}${CRLF}abc"

R_CL="HTTP/1.1 200 OK${CRLF}Content-Length: 5${CRLF}Content-Type: text/plain${CRLF}${CRLF}hello"
R_CHUNKED="HTTP/1.1 200 OK${CRLF}Transfer-Encoding: chunked${CRLF}${CRLF}5;a=b${CRLF}hello${CRLF}6${CRLF} world${CRLF}0${CRLF}X-T: 1${CRLF}${CRLF}"
R_204="HTTP/1.1 204 No Content${CRLF}X-Request-Id: from-backend${CRLF}${CRLF}"
R_304="HTTP/1.1 304 Not Modified${CRLF}Content-Length: 10${CRLF}${CRLF}"
R_101="HTTP/1.1 101 Switching Protocols${CRLF}Connection: Upgrade${CRLF}Upgrade: websocket${CRLF}${CRLF}tunnel bytes"
R_100="HTTP/1.1 100 Continue${CRLF}${CRLF}HTTP/1.1 200 OK${CRLF}Content-Length: 2${CRLF}${CRLF}ok"
R_EOF="HTTP/1.1 200 OK${CRLF}Connection: close${CRLF}${CRLF}until the end"
R_10="HTTP/1.0 200 OK${CRLF}Connection: keep-alive${CRLF}Keep-Alive: timeout=5${CRLF}Content-Length: 2${CRLF}${CRLF}ok"
R_500="HTTP/1.1 500 ${CRLF}Content-Length: 0${CRLF}${CRLF}"

# fuzz_http: [split lo, split hi, flags, strip/cap] + a stream
seed $H get '\000\000\000\000' "$GET"
seed $H get_split '\020\000\000\000' "$GET"
seed $H post_cl '\000\000\002\004' "$POST_CL"
seed $H post_cl_split '\100\000\000\000' "$POST_CL"
seed $H chunked '\000\000\000\000' "$CHUNKED"
seed $H chunked_split '\130\000\040\050' "$CHUNKED"
seed $H pipelined '\000\000\000\000' "$GET$POST_CL"
seed $H pipelined_split '\070\000\000\000' "$CHUNKED$GET"
seed $H upgrade '\000\000\001\000' "$UPGRADE"
seed $H http10_keepalive '\000\000\010\000' "$HTTP10"
seed $H absolute_hop '\000\000\106\003' "$ABSOLUTE"
seed $H expect '\000\000\000\000' "$EXPECT"
seed $H bad_fold '\000\000\000\000' "$BAD_FOLD"
seed $H resp_cl '\000\000\000\000' "$R_CL"
seed $H resp_chunked '\000\000\000\000' "$R_CHUNKED"
seed $H resp_chunked_split '\060\000\000\000' "$R_CHUNKED"
seed $H resp_204 '\000\000\000\000' "$R_204"
seed $H resp_304_head '\000\000\020\000' "$R_304"
seed $H resp_101 '\000\000\000\000' "$R_101"
seed $H resp_100_200 '\000\000\000\000' "$R_100"
seed $H resp_eof '\000\000\000\000' "$R_EOF"
seed $H resp_http10 '\000\000\000\001' "$R_10"
seed $H resp_pipelined '\000\000\000\002' "$R_CL$R_CHUNKED$R_204"

# fuzz_proxy: [flags, client piece, backend piece, more flags] + client @@B backend
seed $P get '\000\000\000\000' "$GET@@B$R_CL"
seed $P get_listener '\001\000\000\000' "$GET@@B$R_CL"
seed $P get_ipv6_json '\102\000\000\000' "$GET@@B$R_CL"
seed $P post_cl '\000\000\000\000' "$POST_CL@@B$R_CL"
seed $P post_cl_pieces '\200\003\005\000' "$POST_CL@@B$R_CL"
seed $P chunked '\000\000\000\000' "$CHUNKED@@B$R_CHUNKED"
seed $P chunked_pieces '\000\007\011\000' "$CHUNKED@@B$R_CHUNKED"
seed $P pipelined '\000\000\000\000' "$GET$POST_CL@@B$R_CL$R_CL"
seed $P pipelined_two_conns '\000\000\000\000' "$GET$HEAD_REQ@@B$R_CL@@N$R_CL"
seed $P upgrade '\014\000\000\000' "${UPGRADE}client tunnel bytes@@B$R_101"
seed $P http10_keepalive '\000\000\000\000' "$HTTP10$HTTP10_CLOSE@@B$R_10@@N$R_CHUNKED"
seed $P http10_dechunk '\010\000\004\000' "$HTTP10_CLOSE@@B$R_CHUNKED"
seed $P head_304 '\000\000\000\000' "$HEAD_REQ@@B$R_304"
# A 304 with a Content-Length answering a POST: no body follows (RFC 9112 6.3).
seed $P post_304_content_length '\000\000\000\000' "$POST_CL$GET@@B$R_304$R_CL"
seed $P resp_204 '\000\000\000\000' "$GET@@B$R_204"
seed $P resp_100_200 '\000\000\000\000' "$EXPECT@@B$R_100"
seed $P resp_eof '\010\000\000\000' "$GET@@B$R_EOF"
seed $P resp_500 '\000\000\000\000' "$ABSOLUTE@@B$R_500"
seed $P dead_503 '\000\000\000\000' "$DEAD@@B"
seed $P retry_other '\000\000\000\000' "$RETRY@@B$R_CL"
seed $P replay_after_close '\010\000\000\000' "$GET@@B@@N$R_CL"
seed $P no_route '\000\000\000\000' "$NOROUTE"
# drover's own answers to HEAD have no body, kept or refused.
seed $P head_no_route '\000\000\000\000' "HEAD /nowhere HTTP/1.1${CRLF}Host: unknown.test${CRLF}${CRLF}$GET@@B$R_CL"
seed $P head_refused '\000\000\000\000' "HEAD /a HTTP/1.1${CRLF}${CRLF}"
seed $P bad_head '\000\000\000\000' "$BAD_FOLD"
seed $P body_413 '\000\000\000\000' "$BIG_CL"
seed $P queue '\020\000\000\000' "$LIMITED@@C$LIMITED@@C$LIMITED@@B@@N$R_CL"
seed $P timeouts '\020\000\000\003' "POST /a HTTP/1.1${CRLF}Host: x${CRLF}Content-Length: 10${CRLF}${CRLF}abc@@B"
seed $P slow_client '\040\000\000\000' "$GET@@B$R_CL"
seed $P slow_backend_big_body '\240\200\000\000' "POST /api/big HTTP/1.1${CRLF}Host: x${CRLF}Content-Length: 4000${CRLF}${CRLF}$(printf '%04000d' 0)@@B$R_CL"
seed $P client_shut_midbody '\004\000\000\004' "POST /a HTTP/1.1${CRLF}Host: x${CRLF}Content-Length: 10${CRLF}${CRLF}abc@@B$R_CL"
seed $P backend_reset '\010\000\000\010' "$GET@@BHTTP/1.1 200 OK${CRLF}Content-Length: 50${CRLF}${CRLF}short"
