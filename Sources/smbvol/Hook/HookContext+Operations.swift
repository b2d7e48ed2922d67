import AttachmentLocks
import DomainXML
import LockHygiene
import SMBMounts
import SmbvolConfig
import HandleEvidence
import Logging
import SmbvolLogging

extension HookContext {
    /// VM start (`prepare begin`) or incoming migration (`migrate begin`, and the `prepare` that
    /// follows it): mount, clear stale handles, keep the locks — or refuse and give back what
    /// this run took.
    func prepare(migrating: Bool) -> Int32 {
        switch attachAndClean(migrating: migrating) {
        case .nothingToDo, .attached: return 0
        case .refused(let message):
            Observability.noteRefusedStart()
            writeToStandardError("smbvol: \(message)\n")
            return 1
        case .failed(let message):
            writeToStandardError("smbvol: \(message)\n")
            return 1
        }
    }

    enum AttachOutcome {
        /// No image on a configured share: nothing mounted, no network.
        case nothingToDo
        case attached(AttachmentReceipt)
        /// A live holder: what this run took was given back.
        case refused(String)
        /// Anything else that stops the start; what this run took was given back.
        case failed(String)
    }

    /// Mounts, records the locks, then runs lock hygiene; on refusal or failure gives back
    /// exactly what this run took. Shared by the hook and hot-attach.
    func attachAndClean(migrating: Bool, connectionInfoShares: [MountableShare] = []) -> AttachOutcome {
        let operation = migrating ? "incoming migration" : "start"
        do {
            let images = try locatedImages()
            guard !images.isEmpty else { return .nothingToDo }
            armWatchdog(operation: operation, mayFail: true)
            let wiring = try ShareAttachmentWiring(configuration: configuration, logger: logger, connectionInfoShares: connectionInfoShares)
            let receipt = try wiring.service.attach(
                try attachmentRequests(for: images, wiring: wiring), deadline: deadline, cleanupDeadline: cleanupDeadline)
            // The symlink-escape check again, now on the mounted share: before the mount it
            // could only look at an empty directory, and a symlink on the server pointing
            // outside the share would let qemu open another file. Always, cluster or not.
            do {
                _ = try locatedImages()
            } catch {
                givingBack()
                _ = wiring.service.release(receipt, deadline: cleanupDeadline)
                throw error
            }
            attachmentRecorded()
            guard let failure = runHygiene(migrating: migrating, wiring: wiring) else { return .attached(receipt) }
            givingBack()
            let report = wiring.service.release(receipt, deadline: cleanupDeadline)
            if !report.unmountFailures.isEmpty {
                logger.error("could not give back a mount after a refused \(operation)", metadata: ["failures": "\(report.unmountFailures)"])
            }
            return failure
        } catch {
            let message = oneLine("\(error)")
            logger.error("\(operation) failed", metadata: ["error": "\(message)"])
            return .failed("\(operation) of \(domain.name) failed: \(message)")
        }
    }

    /// Inspects and acts; returns why the start must not go on, or nil to proceed.
    private func runHygiene(migrating: Bool, wiring: ShareAttachmentWiring) -> AttachOutcome? {
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
            return .failed(oneLine("\(error)"))
        }
        let inspection = hygiene.inspect(domain, operation: migrating ? .migration : .start)
        switch hygiene.execute(inspection) {
        case .proceed(let closed, let notClosed):
            do {
                // Other domains' starts recognise this image by its file number from now on.
                try wiring.service.recordImageIdentities(domainUUID: uuid.value, inspection.imageIdentities, deadline: deadline)
            } catch {
                logger.warning("could not record the images' cluster identity in the attachment locks", metadata: ["error": "\(oneLine("\(error)"))"])
            }
            guard notClosed.isEmpty else {
                let first = notClosed[0]
                return .failed("stale SMB handle \(first.location) could not be closed (\(first.reason)); qemu would not get its image lock — see `smbvol check --domain \(domain.name)`")
            }
            if !closed.isEmpty {
                logger.notice("stale SMB handles closed", metadata: ["locations": "\(closed.joined(separator: ","))"])
            }
            return nil
        case .refuse(let message):
            return .refused(message)
        case .clusterUnavailable(let error, let proceedAnyway):
            if proceedAnyway {
                logger.warning(
                    "cluster unavailable; start continues without stale-handle cleanup (on_cluster_error = continue)",
                    metadata: ["error": "\(oneLine("\(error)"))"])
                return nil
            }
            return .failed("cannot ask the Qumulo cluster about \(domain.name)'s images (on_cluster_error = fail): \(oneLine("\(error)"))")
        case .invalid(let message):
            return .failed(message)
        }
    }

    /// `release end`: drop the domain's hook locks, unmount shares nobody holds. Never fails.
    func release() -> Int32 {
        marks.clear(uuid)
        armWatchdog(operation: "release", mayFail: false)
        do {
            let wiring = try ShareAttachmentWiring(configuration: configuration, logger: logger)
            let report = try wiring.service.releaseDomain(uuid: uuid.value, deadline: cleanupDeadline)
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
