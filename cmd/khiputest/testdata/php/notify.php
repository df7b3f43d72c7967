<?php
// The shop's notify_url, served by PHP's built-in server (php -S): it keeps
// each notification it receives, raw body and signature header, as a file
// in $KHIPU_NOTIFY_DIR, then answers 200. A real shop would verify it here
// and mark the order paid; the test does that with what this keeps.
$dir = getenv('KHIPU_NOTIFY_DIR');
$n = count(glob("$dir/*.json"));
$kept = json_encode([
    'content_type' => $_SERVER['CONTENT_TYPE'] ?? '',
    'signature' => $_SERVER['HTTP_X_KHIPU_SIGNATURE'] ?? '',
    'body' => base64_encode(file_get_contents('php://input')),
]);
file_put_contents("$dir/tmp-$n", $kept);
rename("$dir/tmp-$n", "$dir/$n.json"); // whole, or not at all
http_response_code(200);
