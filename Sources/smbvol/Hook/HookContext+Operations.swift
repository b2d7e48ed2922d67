import AttachmentLocks
import DomainXML
import LockHygiene
import SmbvolConfig
import HandleEvidence
import Logging
import SmbvolLogging

extension HookContext {
    /// VM start (`prepare begin`) or incoming migration (`migrate begin`, and the `prepare` that
    /// follows it): mount, clear stale handles, keep the locks — or refuse and give back what
    /// this run took.
    func prepare(migrating: Bool) -> Int32 {
        let operation = migrating ? "incoming migration" : "start"
        do {
            let images = try locatedImages()
            guard !images.isEmpty else { return 0 }  // nothing on a configured share: no network, no mounts
            armWatchdog(operation: operation, mayFail: true)
            let wiring = try ShareAttachmentWiring(configuration: configuration, logger: logger)
            let receipt = try wiring.service.attach(try attachmentRequests(for: images, wiring: wiring), deadline: deadline)
            let failure = runHygiene(migrating: migrating, wiring: wiring)
            guard let failure else { return 0 }
            let report = wiring.service.release(receipt, deadline: deadline)
            if !report.unmountFailures.isEmpty {
                logger.error("could not give back a mount after a refused \(operation)", metadata: ["failures": "\(report.unmountFailures)"])
            }
            writeToStandardError("smbvol: \(failure)\n")
            return 1
        } catch {
            let message = oneLine("\(error)")
            logger.error("\(operation) failed", metadata: ["error": "\(message)"])
            writeToStandardError("smbvol: \(operation) of \(domain.name) failed: \(message)\n")
            return 1
        }
    }

    /// Inspects and acts; returns the one-line reason the start must fail, or nil to proceed.
    private func runHygiene(migrating: Bool, wiring: ShareAttachmentWiring) -> String? {
        guard !configuration.clusters.isEmpty else {
            logger.notice("no [cluster] configured: shares mounted, stale-handle cleanup skipped")
            return nil
        }
        let hygiene: DomainHygiene
        do {
            hygiene = try DomainHygiene(
                configuration: configuration, attachmentRecords: try wiring.service.locks(),
                localAddresses: LocalAddresses.current(extra: configuration.localAddresses), logger: logger,
                clientForCluster: { try makeClient(cluster: $0) })
        } catch {
            return oneLine("\(error)")
        }
        let inspection = hygiene.inspect(domain, operation: migrating ? .migration : .start)
        switch hygiene.execute(inspection) {
        case .proceed(let closed, let notClosed):
            guard notClosed.isEmpty else {
                let first = notClosed[0]
                return "stale SMB handle \(first.location) could not be closed (\(first.reason)); qemu would not get its image lock — see `smbvol check --domain \(domain.name)`"
            }
            if !closed.isEmpty {
                logger.notice("stale SMB handles closed", metadata: ["locations": "\(closed.joined(separator: ","))"])
            }
            return nil
        case .refuse(let message):
            return message
        case .clusterUnavailable(let error, let proceedAnyway):
            if proceedAnyway {
                logger.warning(
                    "cluster unavailable; start continues without stale-handle cleanup (on_cluster_error = continue)",
                    metadata: ["error": "\(oneLine("\(error)"))"])
                return nil
            }
            return "cannot ask the Qumulo cluster about \(domain.name)'s images (on_cluster_error = fail): \(oneLine("\(error)"))"
        case .invalid(let message):
            return message
        }
    }

    /// `release end`: drop the domain's hook locks, unmount shares nobody holds. Never fails.
    func release() -> Int32 {
        marks.clear(uuid)
        armWatchdog(operation: "release", mayFail: false)
        do {
            let wiring = try ShareAttachmentWiring(configuration: configuration, logger: logger)
            let report = try wiring.service.releaseDomain(uuid: uuid.value, deadline: deadline)
            if !report.unmountFailures.isEmpty {
                logger.error("release: shares left mounted", metadata: ["failures": "\(report.unmountFailures)"])
            }
        } catch {
            logger.error("release failed; run `smbvol reconcile`", metadata: ["error": "\(oneLine("\(error)"))"])
        }
        return 0
    }

    /// `reconnect begin` (libvirtd restarted): make sure the running domain's locks exist (and
    /// its shares are mounted). Never fails: a failing reconnect hook kills the VM.
    func reconnect() -> Int32 {
        armWatchdog(operation: "reconnect", mayFail: false)
        do {
            let images = try locatedImages()
            guard !images.isEmpty else { return 0 }
            let wiring = try ShareAttachmentWiring(configuration: configuration, logger: logger)
            _ = try wiring.service.attach(try attachmentRequests(for: images, wiring: wiring), deadline: deadline)
        } catch {
            logger.error("reconnect: could not restore the domain's locks; run `smbvol reconcile`", metadata: ["error": "\(oneLine("\(error)"))"])
        }
        return 0
    }
}
