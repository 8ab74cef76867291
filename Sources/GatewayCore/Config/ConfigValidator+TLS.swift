import GatewayTLS

/// The TLS grammar: `listen ADDR tls { ... }` (and `admin_listen`), and the file arguments
/// certificates, keys and CA bundles are named by.
extension ConfigValidator {
    /// `listen`/`admin_listen ADDR;` or `ADDR tls { certificate …; key …; … }`.
    mutating func listenAddress(_ directive: ConfigDirective) -> ListenAddress? {
        let isTLS = directive.arguments.count == 2 && directive.arguments[1].text == "tls"
        if directive.arguments.count == 2 && !isTLS {
            error(directive.arguments[1].location, "expected \"tls\" after the address")
            return nil
        }
        guard shape(directive, arguments: 1...2, block: isTLS) else { return nil }
        guard var address = parse(directive.arguments[0], ConfigValue.listenAddress) else { return nil }
        address.location = directive.location
        if isTLS {
            guard let settings = serverTLSBlock(directive) else { return nil }
            address.tls = settings
        }
        return address
    }

    /// The `tls { ... }` block of a listener. Certificates pair up in order: each `key`
    /// belongs to the `certificate` right before it.
    private mutating func serverTLSBlock(_ directive: ConfigDirective) -> ServerTLSSettings? {
        var settings = ServerTLSSettings(certificates: [])
        var pendingCertificate: (path: String, location: SourceLocation)? = nil
        var seen: [String: SourceLocation] = [:]
        var valid = true
        for child in directive.block ?? [] {
            switch child.name {
            case "certificate":
                guard shape(child, arguments: 1...1) else { valid = false; continue }
                if let pending = pendingCertificate {
                    error(pending.location, "certificate without its key (a \"key\" line follows each certificate)")
                    valid = false
                }
                // A bad path is reported once; the pairing goes on so the key line is not blamed.
                let path = filePath(child.arguments[0])
                if path == nil { valid = false }
                pendingCertificate = (path ?? "", child.location)
            case "key":
                guard shape(child, arguments: 1...1), let path = filePath(child.arguments[0]) else {
                    valid = false
                    pendingCertificate = nil
                    continue
                }
                guard let certificate = pendingCertificate else {
                    error(child.location, "key without a certificate before it")
                    valid = false
                    continue
                }
                settings.certificates.append(.init(chainFile: certificate.path, keyFile: path))
                pendingCertificate = nil
            case "ocsp_response":
                guard shape(child, arguments: 1...1), let path = filePath(child.arguments[0]) else { valid = false; continue }
                guard pendingCertificate == nil, let last = settings.certificates.indices.last else {
                    error(child.location, "ocsp_response belongs after a certificate and its key")
                    valid = false
                    continue
                }
                guard settings.certificates[last].ocspResponseFile == nil else {
                    error(child.location, "this certificate already has an ocsp_response")
                    valid = false
                    continue
                }
                settings.certificates[last].ocspResponseFile = path
            case "client_ca":
                guard once(child, &seen), shape(child, arguments: 1...1), let path = filePath(child.arguments[0]) else {
                    valid = false
                    continue
                }
                settings.clientCAFile = path
            case "client_certificate":
                guard once(child, &seen), shape(child, arguments: 1...1) else { valid = false; continue }
                guard let mode = ServerTLSSettings.ClientCertificates(rawValue: child.arguments[0].text) else {
                    error(child.arguments[0].location, "client_certificate is off, optional or required")
                    valid = false
                    continue
                }
                settings.clientCertificates = mode
            default:
                error(child.location, "unknown directive \"\(child.name)\" inside \"tls\"")
                valid = false
            }
        }
        if let pending = pendingCertificate {
            error(pending.location, "certificate without its key (a \"key\" line follows each certificate)")
            valid = false
        }
        if settings.certificates.isEmpty && valid {
            error(directive.location, "a tls listener needs a certificate and its key")
            valid = false
        }
        if settings.clientCertificates != .off && settings.clientCAFile == nil {
            error(directive.location, "client_certificate \(settings.clientCertificates.rawValue) needs client_ca")
            valid = false
        } else if settings.clientCertificates == .off && settings.clientCAFile != nil {
            warning(directive.location, "client_ca without client_certificate: no client certificate is asked for")
        }
        return valid ? settings : nil
    }

    /// A file named by `file:PATH` (or a bare path), resolved against the directory of the
    /// config file that names it. Read later by the component that loads it (OpenSSL), whose
    /// error then names the path.
    mutating func filePath(_ argument: ConfigArgument) -> String? {
        let text = argument.text.hasPrefix("file:") ? String(argument.text.dropFirst(5)) : argument.text
        guard !text.isEmpty else {
            error(argument.location, "file: needs a path")
            return nil
        }
        return ConfigFiles.resolve(text, relativeTo: ConfigFiles.directory(of: argument.location.file))
    }
}

/// An upstream's TLS lines as read, before they are checked against its servers.
struct UpstreamTLSLines {
    var forceOn: SourceLocation? = nil
    var config = UpstreamTLSConfig()
    var certificate: (path: String, location: SourceLocation)? = nil
    var key: (path: String, location: SourceLocation)? = nil
    /// The first TLS-only line (for "needs https servers").
    var firstLine: SourceLocation? = nil
}

extension ConfigValidator {
    /// One of `tls on|off; ca file:…; tls_verify on|off; tls_server_name NAME;
    /// tls_certificate file:…; tls_key file:…;` inside `upstream`.
    mutating func upstreamTLSLine(_ child: ConfigDirective, _ lines: inout UpstreamTLSLines, _ seen: inout [String: SourceLocation]) -> Bool {
        guard once(child, &seen), shape(child, arguments: 1...1) else { return false }
        let argument = child.arguments[0]
        if child.name != "tls" && lines.firstLine == nil { lines.firstLine = child.location }
        switch child.name {
        case "tls", "tls_verify":
            guard argument.text == "on" || argument.text == "off" else {
                error(argument.location, "\(child.name) is on or off")
                return false
            }
            if child.name == "tls" {
                lines.forceOn = argument.text == "on" ? child.location : nil
            } else {
                lines.config.client.verify = argument.text == "on"
                if argument.text == "off" {
                    warning(child.location, "tls_verify off: the upstream's certificate is not checked (anyone on the path can impersonate it)")
                }
            }
        case "ca":
            guard let path = filePath(argument) else { return false }
            lines.config.client.caFile = path
        case "tls_server_name":
            guard ConfigValue.isHostName(argument.text) else {
                error(argument.location, "tls_server_name must be a DNS name")
                return false
            }
            lines.config.serverName = argument.text
        case "tls_certificate":
            guard let path = filePath(argument) else { return false }
            lines.certificate = (path, child.location)
        default:   // tls_key
            guard let path = filePath(argument) else { return false }
            lines.key = (path, child.location)
        }
        return true
    }

    /// Applies the TLS lines to the upstream: `tls on` makes every server TLS; TLS settings
    /// without any TLS server are an error (they would silently do nothing).
    mutating func finishUpstreamTLS(_ upstream: inout UpstreamConfig, _ lines: UpstreamTLSLines, at location: SourceLocation) -> Bool {
        if lines.forceOn != nil {
            for index in upstream.servers.indices { upstream.servers[index].tls = true }
        }
        var valid = true
        switch (lines.certificate, lines.key) {
        case let (certificate?, key?):
            var config = lines.config
            config.client.certificate = .init(chainFile: certificate.path, keyFile: key.path)
            upstream.tls = config
        case let (certificate?, nil):
            error(certificate.location, "tls_certificate needs tls_key")
            valid = false
        case let (nil, key?):
            error(key.location, "tls_key needs tls_certificate")
            valid = false
        case (nil, nil):
            upstream.tls = lines.config
        }
        if !upstream.servers.contains(where: \.tls) {
            if let line = lines.firstLine {
                error(line, "TLS settings need https:// servers or \"tls on;\"")
                valid = false
            }
            upstream.tls = nil
        }
        return valid
    }
}

extension ConfigValidator {
    /// `mtls { claims FIELD=name[,name…]…; roles R…; permissions P…; }`.
    mutating func mtlsBlock(_ directive: ConfigDirective, roleReferences: inout [ConfigArgument]) -> MTLSConfig {
        var result = MTLSConfig()
        var seen: [String: SourceLocation] = [:]
        for child in directive.block ?? [] {
            switch child.name {
            case "claims":
                guard once(child, &seen), shape(child, arguments: 1...Int.max) else { continue }
                for argument in child.arguments { certificateClaim(argument, into: &result) }
            case "roles":
                guard once(child, &seen), shape(child, arguments: 1...Int.max) else { continue }
                roleReferences += child.arguments
                result.roles = child.arguments.map(\.text)
            case "permissions":
                guard once(child, &seen), shape(child, arguments: 1...Int.max),
                      child.arguments.allSatisfy({ permission($0, wildcards: false) }) else { continue }
                result.permissions = child.arguments.map(\.text)
            default:
                error(child.location, "unknown directive \"\(child.name)\" inside \"mtls\"; expected claims, roles or permissions")
            }
        }
        return result
    }

    /// One `FIELD=name[,name…]` of `mtls { claims … }`.
    private mutating func certificateClaim(_ argument: ConfigArgument, into result: inout MTLSConfig) {
        let parts = argument.text.split(separator: "=", maxSplits: 1).map(String.init)
        let names = parts.count == 2 ? parts[1].split(separator: ",").map { CertificateName(rawValue: String($0)) } : []
        let expected = CertificateName.allCases.map(\.rawValue).joined(separator: ", ")
        guard parts.count == 2, !names.isEmpty, names.allSatisfy({ $0 != nil }) else {
            error(argument.location, "mtls claims take FIELD=name[,name...] with names from \(expected)")
            return
        }
        let list = names.compactMap { $0 }
        switch parts[0] {
        case "user_id": result.userID = list
        case "org_id": result.orgID = list
        case "email": result.email = list
        case "name": result.name = list
        default: error(argument.location, "unknown identity field \"\(parts[0])\"; expected user_id, org_id, email or name")
        }
    }
}
