<?php
// A PHP shop's test against cmd/khiputest, with PHP's standard functions
// only (no curl, no Composer).
//
// It starts khiputest, creates a payment with API v3 and notifications 3.0
// to a notify_url of its own (notify.php, served by php -S), pays it through
// the control API, and verifies the notification's x-khipu-signature by hand
// with the account's secret; then does the same with API v2 and
// notifications 1.3 (a signed v2 request, a notification_token, the payment
// looked up by it).
//
//     php test_shop.php [path/to/khiputest]
//
// The program is the first argument, or the khiputest on PATH
// (go install github.com/khipu-go/khipu/cmd/khiputest@latest).

const RECEIVER_ID = '12345';
const SECRET = 'php-test-secret'; // the account's "Llave secreta": signs v2 requests and notifications 3.0
const API_KEY = 'php-test-api-key';
const TIMEOUT = 30; // seconds, for every wait

// fail ends the test: thrown, so that the finally below stops what it
// started (exit would skip it).
function fail(string $why): never
{
    throw new RuntimeException($why);
}

function check(bool $condition, string $what): void
{
    if (!$condition) {
        fail($what);
    }
    echo "ok: $what\n";
}

// startKhiputest starts the program on a free port and returns it, its
// pipes and what it printed.
function startKhiputest(string $binary): array
{
    $cmd = [$binary, '-addr', '127.0.0.1:0', '-receiver-id', RECEIVER_ID, '-secret', SECRET, '-api-key', API_KEY];
    $proc = proc_open($cmd, [1 => ['pipe', 'w'], 2 => STDERR], $pipes);
    if ($proc === false) {
        fail("cannot start $binary");
    }
    $banner = [];
    while (($line = fgets($pipes[1])) !== false) { // "name: value" lines, control_url the last
        [$name, $value] = array_pad(explode(': ', trim($line), 2), 2, '');
        $banner[$name] = $value;
        if ($name === 'control_url') {
            return [$proc, $pipes, $banner];
        }
    }
    fail('khiputest exited before printing its URLs');
}

// startShop serves notify.php with PHP's built-in server on a port it picks
// itself (127.0.0.1:0), and returns it and its notify_url. The port is read
// from the server's banner: a port found free and closed here could be
// taken by another program before php -S listens on it, and the test would
// then notify that program instead.
function startShop(string $dir): array
{
    $log = "$dir/php-server.log";
    $proc = proc_open([PHP_BINARY, '-S', '127.0.0.1:0', __DIR__ . '/notify.php'],
        [1 => ['file', '/dev/null', 'w'], 2 => ['file', $log, 'w']], $pipes, null,
        ['KHIPU_NOTIFY_DIR' => $dir]);
    if ($proc === false) {
        fail('cannot start php -S');
    }
    $deadline = microtime(true) + TIMEOUT;
    // "[date] PHP 8.2.x Development Server (http://127.0.0.1:41234) started"
    while (!preg_match('#Development Server \(http://(127\.0\.0\.1:([0-9]+))\) started#', (string)@file_get_contents($log), $m)) {
        if (!proc_get_status($proc)['running'] || microtime(true) > $deadline) {
            fail('php -S did not start: ' . @file_get_contents($log));
        }
        usleep(20000);
    }
    if ($m[2] === '0') {
        fail('this PHP does not pick a port for php -S 127.0.0.1:0');
    }
    return [$proc, "http://$m[1]/khipu/notify"];
}

// call sends a request and returns the status and the decoded JSON answer.
function call(string $method, string $url, string $body = '', array $headers = []): array
{
    $context = stream_context_create(['http' => [
        'method' => $method, 'header' => $headers, 'content' => $body,
        'ignore_errors' => true, 'timeout' => TIMEOUT,
    ]]);
    $answer = file_get_contents($url, false, $context);
    $responseHeaders = function_exists('http_get_last_response_headers') ? http_get_last_response_headers() : $http_response_header;
    preg_match('#^HTTP/\S+ (\d{3})#', $responseHeaders[0], $m);
    return [(int)$m[1], json_decode($answer, true)];
}

// signV2 is the Authorization header of a v2 request: the hex HMAC-SHA256 of
// METHOD&encode(url)&encode(k)=encode(v)... (keys sorted), with RFC 3986
// encoding (PHP's rawurlencode).
function signV2(string $method, string $url, array $params): string
{
    ksort($params, SORT_STRING);
    $toSign = $method . '&' . rawurlencode($url);
    foreach ($params as $key => $value) {
        $toSign .= '&' . rawurlencode($key) . '=' . rawurlencode($value);
    }
    return RECEIVER_ID . ':' . hash_hmac('sha256', $toSign, SECRET);
}

// verifyNotification3 checks x-khipu-signature: t=<ms>,s=<base64
// HMAC-SHA256 of t . "." . raw body>, over the body exactly as received.
function verifyNotification3(string $header, string $rawBody): bool
{
    $parts = [];
    foreach (explode(',', $header) as $part) {
        [$key, $value] = array_pad(explode('=', $part, 2), 2, '');
        $parts[$key] = $value;
    }
    if (!isset($parts['t'], $parts['s'])) {
        return false;
    }
    $expected = base64_encode(hash_hmac('sha256', $parts['t'] . '.' . $rawBody, SECRET, true));
    return hash_equals($expected, $parts['s']);
}

// received is the n-th notification notify.php kept. The control API's pay
// answers once the shop has answered, and notify.php keeps it first.
function received(string $dir, int $n): array
{
    $kept = json_decode(file_get_contents("$dir/$n.json"), true);
    $kept['body'] = base64_decode($kept['body']);
    return $kept;
}

$binary = $argv[1] ?? 'khiputest';
$dir = sys_get_temp_dir() . '/khiputest-php-' . getmypid();
mkdir($dir);
$khiputest = $shop = null;
$code = 0;
try {
    [$khiputest, $pipes, $banner] = startKhiputest($binary);
    [$shop, $notifyURL] = startShop($dir);
    $v3 = $banner['api_v3_url'];
    $v2 = $banner['api_v2_url'];
    $control = $banner['control_url'];

    // API v3, notifications 3.0.
    $order = ['amount' => 1000, 'currency' => 'CLP', 'subject' => 'Order 2001', 'transaction_id' => 'order-2001',
        'notify_url' => $notifyURL, 'notify_api_version' => '3.0'];
    [$status, $created] = call('POST', "$v3/v3/payments", json_encode($order),
        ['x-api-key: ' . API_KEY, 'Content-Type: application/json']);
    check($status === 200, "v3: payment {$created['payment_id']} created");
    [$status, $paid] = call('POST', "{$control}payments/{$created['payment_id']}/pay");
    check($status === 200 && $paid['notify_status'] === 200, 'v3: paid through the control API, the shop answered 200');
    $notification = received($dir, 0);
    check(verifyNotification3($notification['signature'], $notification['body']),
        "v3: the notification's signature verifies with the secret");
    $payment = json_decode($notification['body'], true);
    check($payment['payment_id'] === $created['payment_id'] && $payment['transaction_id'] === 'order-2001'
        && $payment['amount'] === '1000.0000' && $payment['currency'] === 'CLP',
        "v3: the notification is the order's payment");

    // API v2, notifications 1.3.
    $params = ['subject' => 'Order 2002', 'currency' => 'CLP', 'amount' => '2000', 'transaction_id' => 'order-2002',
        'notify_url' => $notifyURL, 'notify_api_version' => '1.3'];
    [$status, $created] = call('POST', "$v2/payments", http_build_query($params), [
        'Authorization: ' . signV2('POST', "$v2/payments", $params),
        'Content-Type: application/x-www-form-urlencoded']);
    check($status === 200, "v2: payment {$created['payment_id']} created");
    [$status, $paid] = call('POST', "{$control}payments/{$created['payment_id']}/pay");
    check($status === 200 && $paid['notify_status'] === 200, 'v2: paid through the control API, the shop answered 200');
    parse_str(received($dir, 1)['body'], $form);
    check(($form['api_version'] ?? '') === '1.3', 'v2: a notification 1.3');
    $query = ['notification_token' => $form['notification_token']];
    [$status, $payment] = call('GET', "$v2/payments?" . http_build_query($query), '',
        ['Authorization: ' . signV2('GET', "$v2/payments", $query)]);
    check($status === 200 && $payment['payment_id'] === $created['payment_id'] && $payment['status'] === 'done'
        && (string)$payment['receiver_id'] === RECEIVER_ID && $payment['transaction_id'] === 'order-2002',
        "v2: the token names the order's payment, done, of this account");
} catch (Throwable $e) {
    fwrite(STDERR, 'FAIL: ' . $e->getMessage() . "\n");
    $code = 1;
} finally {
    foreach ([$shop, $khiputest] as $proc) {
        if ($proc) {
            proc_terminate($proc);
            proc_close($proc);
        }
    }
    array_map('unlink', glob("$dir/*"));
    rmdir($dir);
}
exit($code);
