#!/usr/bin/perl
# Makes a session of requests with Perl's LWP::UserAgent (Debian's libwww-perl), which answers
# Basic and Digest challenges itself (LWP::Authen::Basic, LWP::Authen::Digest) from the
# credentials it was given, as an application would.
#
# Usage: lwp_client.pl SPEC, SPEC being JSON:
#   { "credentials": [ { "hostPort": "127.0.0.1:PORT", "realm": "...", "user": "...",
#                        "password": "..." } ], "strings": "characters" | "utf8-bytes",
#     "proxy": { "url": "http://[user:password@]127.0.0.1:PORT",
#                "credentials": { "user": "...", "password": "..." } },
#     "requests": [ { "method": "GET" | "POST", "url": "...", "form": { ... },
#                     "bearer": "TOKEN" | "@token" } ] }
# "strings" says how user name and password are handed to LWP: as Perl character strings, or as
# their UTF-8 bytes (what a script gets from @ARGV or a file read without a decoding layer). The
# realm is given as the challenge's octets, one character each (the latin1 view Node has of it):
# LWP looks credentials up by the realm as received. "@token" is the access_token of the previous
# response's JSON body.
#
# "proxy" sends the requests through a forward proxy; its "credentials" answer the proxy's 407.
#
# Prints one JSON line: {"responses": [{"status", "body", "warning", "exchanges": [{"status",
# "authorization", "proxyAuthorization", "challenges", "proxyChallenges"}, ...]}, ...]},
# "exchanges" being every request LWP sent for the call, oldest first (a 401 that LWP answered,
# then the answer), or {"error": "..."}.
use strict;
use warnings;
use Encode ();
use JSON::PP ();
use LWP::UserAgent ();

my $json = JSON::PP->new->utf8->canonical;
my $spec = $json->decode($ARGV[0]);

# LWP answers a proxy's 407 only with what get_basic_credentials returns for it (nothing, by
# default: $ua->credentials serves origins only), so a script that talks to an authenticating
# proxy overrides it, as LWP's documentation suggests.
package ProxyAgent {
    use parent -norequire, 'LWP::UserAgent';
    sub get_basic_credentials {
        my ($self, $realm, $uri, $is_proxy) = @_;
        return $self->SUPER::get_basic_credentials($realm, $uri, $is_proxy) unless $is_proxy;
        my $c = $self->{proxy_credentials} or return;
        return ($c->{user}, $c->{password});
    }
}

my $ua = ProxyAgent->new(timeout => 10, env_proxy => 0);
if (my $proxy = $spec->{proxy}) {
    $ua->proxy('http', $proxy->{url});
    $ua->{proxy_credentials} = $proxy->{credentials};
}
for my $c (@{ $spec->{credentials} // [] }) {
    my @secret = ($c->{user}, $c->{password});
    @secret = map { Encode::encode('UTF-8', $_) } @secret if ($spec->{strings} // '') eq 'utf8-bytes';
    $ua->credentials($c->{hostPort}, $c->{realm}, @secret);
}

# Every request LWP sends and what came back, from its own handlers: a refused answer is not in
# the response's previous() chain, since LWP hands back the first 401 when its answer fails.
my @exchanges;
$ua->add_handler(response_done => sub {
    my ($response) = @_;
    push @exchanges, {
        status => $response->code + 0,
        authorization => scalar $response->request->header('Authorization'),
        proxyAuthorization => scalar $response->request->header('Proxy-Authorization'),
        challenges => [ $response->header('WWW-Authenticate') ],
        proxyChallenges => [ $response->header('Proxy-Authenticate') ],
    };
    return;
});

my @responses;
my $token;
eval {
    for my $step (@{ $spec->{requests} }) {
        my %headers;
        if (defined(my $bearer = $step->{bearer})) {
            $bearer = $token if $bearer eq '@token';
            $headers{Authorization} = "Bearer $bearer";
        }
        @exchanges = ();
        my $response = $step->{method} eq 'POST'
          ? $ua->post($step->{url}, $step->{form} // {}, %headers)
          : $ua->get($step->{url}, %headers);
        # decoded_content decodes text/* only: the JSON bodies are UTF-8 bytes.
        my $bytes = $response->decoded_content(charset => 'none') // '';
        my $body = Encode::decode('UTF-8', $bytes);
        my $parsed = eval { $json->decode($bytes) };
        $token = $parsed->{access_token} if ref $parsed eq 'HASH' && $parsed->{access_token};
        push @responses, {
            status => $response->code + 0,
            body => $body,
            warning => scalar $response->header('Client-Warning'),
            exchanges => [ @exchanges ],
        };
    }
    1;
} or do {
    print $json->encode({ error => "$@" }), "\n";
    exit 0;
};
print $json->encode({ responses => \@responses }), "\n";
