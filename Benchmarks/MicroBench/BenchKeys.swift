// Benchmark-only private keys, made once with `openssl genpkey` (RSA 2048, P-256, Ed25519).
// They sign nothing outside this benchmark; the binary cannot run a key generator itself.

/// PEM private keys for the public-key cases (PKCS#8, unencrypted).
enum BenchKeys {
    static let rsa2048Private = """
-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQC0OR1ZrK0F8vJN
RORunayCHySMeY4cdL8GXvfa2/hvg3jFc49V/fW77i0uhkL3uNm5r2ZT/9hIY5tR
at304Ow9NIbBtpMH5iigNkEHezAO0YvGVvXJ6/0sQKOBDmMOmwDFahf6edPtIG2A
5KiSvogx1939HQAQqTJ91Me0zp4PLl4MKEhyy5MqL3jy0wsW308/ZgnUPTi6F4wL
oFmLmRiFY+QV87tOtPVq2T6cTqAuQa+b0ralMtqqH0jSxdLjc8VGI+XON/ZYlP/V
sxoqkRrnMK9MKVOsEzaJ5HTQ/jXIfaz0XdhHnpGd6hM7wttPnEEYM7c+omHizVkO
91/sKksVAgMBAAECggEAAew0EHSuTzMa0Pvhq1PE9zRphD14aHxPB2c0TLeZDGjX
fSpw8TFpkYzbxYnK0Bq+6Ti3pkDDUsO2m0/ruJo9BaAi/zu5O4CB7Bz4D6I0Towq
FL5xFoDigrouebN+F2ChnvmKnPJMx6msvA8fGfBXbUoIxROt9ao1xDA6GzHdxNAC
CkF8gBg0Og/tSYWRWBxb2zLCZoA9+3oIzXMznKJEKLHGTsJSyTrl8qHXVi2BgkEX
WEJFUvxoVZb9yYv9PgWrM64rcfONliItBFYU0Cakg9EYWTETrEmpHWpIFzddg9Lf
hyYGIf1KGNO/VWna/O+1RAgQDczGjxb3Ho69kGf3lwKBgQDx9KOlFJWUHO7iNZS/
fh67/LLLfNpIiVAFLEZANxo2lpCsfnkOJPMTgr/m1USxrjmDP9IPnuCbVa0EmfQ9
4sgPMCSAbTNLKXZlPi3xbi2XUEg1QkBlLNfkmvvvjvqenW7cc2NKxWBrbIQrEpel
nEQBh+68C4xeWE1nT+SH5L5KXwKBgQC+ryfY6xqZtrk6u3c4P1ZXvYBQARseLy/H
A/cnm/CGp2OaA0MwKg5XvB2/g1vR5/th/ofqHoY+17bIFUMLNDVc3I8gApz5KrDT
ZtjkTYW/1gdbHbWZHI3cjeqX3wwr4MU2KeCDnijhf0MQUUEIIU0RV0YcBTJR8kti
4N8sEVuHCwKBgDnSiyEycCS7XWN2BpxU2ad3VotGxSu8lQEHeapzALK2/NAcUXXN
4sFw58eUhBwqVNhG8j6Fa4vzx6tn13TKs6DdknuWnUGDISZE29nsyLx2lSsVMCp9
swKQ/1BazQ4G9a19bec6kDZb8qIQiWkslRwAjk8mO194ntbnwuevBMLlAoGBALc0
5O0mXiVoCSnj6hTxzcx5NyonFd33akklhzbYPc2yUCEul0RUc/lZtZ9G31abM80g
V4fakhMZAPXWb9b473hsNVuFBzrjCIfk3ejkjugVBHZH4i3c4HQTKl2GoVQbHn/+
1ka/E/osYsvvtbLRBBHwL11GpOVVDZdQBTx65NynAoGBAOM+Fy71mG+w/frSDe61
FXQFDK4JMVv3Ilobz45k1t2P/XOJ/LFM9L4CnAsA+HjcVpTAqi2ljjQjcjT+8z6U
Lyu572TCPShAvpZF4bNNEhwyr7oD3P0b9gaN6htbRpd0qSIWvxbUJ1pcOL89uUth
1Y2x98xSDHcU3efRhG3rHVH7
-----END PRIVATE KEY-----
"""

    static let p256Private = """
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg3D734FBXiuQzvhuW
weSVHxYOzQIG1OhggCzF/QGDDo2hRANCAATGSWbKmSb3/fXa/Vxwn4IgjZ8lHNF+
k28qewdjus+hthl2sBbuPVGo80eAv0O1ptLDhQI2xmA8tCxehJQ8xYiX
-----END PRIVATE KEY-----
"""

    static let ed25519Private = """
-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIFSD9su6vHBd4FaaaicbiXzpwjeQ/ngrI78eHCbN2Tzn
-----END PRIVATE KEY-----
"""
}
