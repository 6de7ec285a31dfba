<?php
// A receiver's check of a GET postback signed by nestjs-postback (HMAC-SHA256, Standard
// Webhooks), in plain PHP 8. Try it with PHP's built-in server:
//   POSTBACK_SECRET=whsec_… php -S 127.0.0.1:8080 verify-get.php
// POSTBACK_SECRET may hold several secrets, space-separated (a key rotation); set
// POSTBACK_COVERS=query if the shop signs the query string alone (signing.covers: 'query').
declare(strict_types=1);

const TOLERANCE_SECONDS = 300;

/**
 * The postback's query parameters if $target carries a valid signature by one of $secrets;
 * null otherwise. $target is the request target exactly as received, path and query still
 * percent-encoded: $_SERVER['REQUEST_URI'].
 */
function verify_get_postback(string $target, array $secrets, string $covers = 'path_and_query', ?int $now = null): ?array
{
    $question = strpos($target, '?');
    // The signature parameter comes last; everything before its "&" is what was signed.
    $cut = strrpos($target, '&pb_sig=');
    if ($question === false || $cut === false || $cut < $question) {
        return null;
    }
    // Read the values from the verified text itself (rawurldecode: exact, no name mangling).
    $params = [];
    foreach (explode('&', substr($target, $question + 1)) as $pair) {
        [$name, $value] = array_pad(explode('=', $pair, 2), 2, '');
        $params[rawurldecode($name)] = rawurldecode($value);
    }
    $id = $params['pb_id'] ?? '';
    $timestamp = $params['pb_ts'] ?? '';
    $signatures = $params['pb_sig'] ?? ''; // decoded: "v1,<base64>", space-separated
    if ($id === '' || !preg_match('/^\d{1,12}$/', $timestamp) || $signatures === '') {
        return null;
    }
    if (abs(($now ?? time()) - (int) $timestamp) > TOLERANCE_SECONDS) {
        return null;
    }

    $unsigned = substr($target, 0, $cut);
    $payload = $covers === 'query' ? substr($unsigned, $question + 1) : $unsigned;
    foreach ($secrets as $secret) {
        $key = str_starts_with($secret, 'whsec_') ? base64_decode(substr($secret, 6), true) : false;
        if ($key === false) {
            throw new InvalidArgumentException('a secret is whsec_ + base64');
        }
        $expected = 'v1,' . base64_encode(hash_hmac('sha256', "$id.$timestamp.$payload", $key, true));
        foreach (explode(' ', $signatures) as $candidate) {
            if (hash_equals($expected, $candidate)) {
                return $params;
            }
        }
    }
    return null;
}

// As a front controller: under `php -S`, or nginx + PHP-FPM, whose REQUEST_URI is the
// request URI the client sent even where nginx rewrote the path.
if (PHP_SAPI !== 'cli') {
    $secrets = array_values(array_filter(explode(' ', getenv('POSTBACK_SECRET') ?: '')));
    $covers = getenv('POSTBACK_COVERS') ?: 'path_and_query';
    $params = verify_get_postback($_SERVER['REQUEST_URI'], $secrets, $covers);
    if ($params === null) {
        http_response_code(401);
        echo "invalid signature\n";
        return;
    }
    // Record the conversion here, from $params ($params['cid'], …), deduplicated on pb_id.
    header('Content-Type: application/json');
    echo json_encode($params, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
}
