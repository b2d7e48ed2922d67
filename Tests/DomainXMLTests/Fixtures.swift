/// Domain XML as libvirt 9.0 writes it (`virsh dumpxml` of a running domain: `id=`, seclabels,
/// secrets, aliases, many devices), embedded as literals (no resources without a Package.swift
/// change).
enum Fixtures {
    static let liveDomain = """
        <domain type='kvm' id='7'>
          <name>web01</name>
          <uuid>3F2A1B4C-5D6E-4F70-8192-A3B4C5D6E7F8</uuid>
          <metadata>
            <nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">
              <nova:name>web01</nova:name>
            </nova:instance>
            <smbvol:volumes xmlns:smbvol="https://smbvol.example/xmlns/volumes/1">
              <smbvol:volume target="vdb" share="vmstore"/>
              <smbvol:volume source="/srv/images/iso/install.iso" share="isos"/>
            </smbvol:volumes>
          </metadata>
          <memory unit='KiB'>2097152</memory>
          <currentMemory unit='KiB'>2097152</currentMemory>
          <vcpu placement='static'>2</vcpu>
          <resource>
            <partition>/machine</partition>
          </resource>
          <os>
            <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
            <boot dev='hd'/>
          </os>
          <features>
            <acpi/>
            <apic/>
          </features>
          <cpu mode='custom' match='exact' check='full'>
            <model fallback='forbid'>qemu64</model>
            <feature policy='require' name='x2apic'/>
          </cpu>
          <clock offset='utc'/>
          <on_poweroff>destroy</on_poweroff>
          <on_reboot>restart</on_reboot>
          <on_crash>destroy</on_crash>
          <devices>
            <emulator>/usr/bin/qemu-system-x86_64</emulator>
            <disk type='file' device='disk'>
              <driver name='qemu' type='qcow2' cache='none' discard='unmap'/>
              <source file='/var/lib/smbvol/mnt/qumulo1_vmstore-5c1e2a9f/web01/root.qcow2' index='3'>
                <seclabel model='dac' relabel='no'/>
              </source>
              <backingStore type='file' index='4'>
                <format type='qcow2'/>
                <source file='/var/lib/smbvol/mnt/qumulo1_vmstore-5c1e2a9f/base/debian12.qcow2'/>
                <backingStore type='file' index='5'>
                  <format type='raw'/>
                  <source file='/var/lib/smbvol/mnt/qumulo1_vmstore-5c1e2a9f/base/debian12-raw.img'/>
                  <backingStore/>
                </backingStore>
              </backingStore>
              <target dev='vda' bus='virtio'/>
              <alias name='virtio-disk0'/>
              <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
            </disk>
            <disk type='file' device='disk'>
              <driver name='qemu' type='raw' cache='directsync'/>
              <source file='/var/lib/smbvol/mnt/qumulo1_vmstore-5c1e2a9f/web01/data &amp; logs.img' index='2'/>
              <backingStore/>
              <target dev='vdb' bus='virtio'/>
              <shareable/>
              <encryption format='luks'>
                <secret type='passphrase' uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'/>
              </encryption>
              <alias name='virtio-disk1'/>
            </disk>
            <disk type='file' device='cdrom'>
              <driver name='qemu' type='raw'/>
              <source file='/srv/images/iso/install.iso' index='1'/>
              <target dev='sda' bus='sata'/>
              <readonly/>
              <alias name='sata0-0-0'/>
            </disk>
            <disk type='file' device='cdrom'>
              <driver name='qemu'/>
              <target dev='sdb' bus='sata'/>
              <readonly/>
            </disk>
            <disk type='network' device='disk'>
              <driver name='qemu' type='raw'/>
              <source protocol='rbd' name='pool/image'>
                <host name='mon1' port='6789'/>
              </source>
              <auth username='libvirt'>
                <secret type='ceph' uuid='2ec115d7-3a88-3ceb-bc12-0ac909a6fd87'/>
              </auth>
              <target dev='vdc' bus='virtio'/>
            </disk>
            <disk type='block' device='disk'>
              <driver name='qemu' type='raw' cache='none'/>
              <source dev='/dev/vg0/scratch'/>
              <target dev='vdd' bus='virtio'/>
            </disk>
            <controller type='sata' index='0'>
              <alias name='ide'/>
            </controller>
            <controller type='pci' index='0' model='pcie-root'/>
            <interface type='network'>
              <mac address='52:54:00:6b:3c:58'/>
              <source network='default' portid='f3b0e0a5-1c1b-4a2f-9c58-3a4a0bc1a0f2' bridge='virbr0'/>
              <target dev='vnet3'/>
              <model type='virtio'/>
              <alias name='net0'/>
            </interface>
            <serial type='pty'>
              <source path='/dev/pts/4'/>
              <target type='isa-serial' port='0'>
                <model name='isa-serial'/>
              </target>
            </serial>
            <graphics type='vnc' port='5900' autoport='yes' listen='127.0.0.1' passwd='s3cret'>
              <listen type='address' address='127.0.0.1'/>
            </graphics>
            <video>
              <model type='virtio' heads='1' primary='yes'/>
            </video>
            <memballoon model='virtio'/>
          </devices>
          <seclabel type='dynamic' model='apparmor' relabel='yes'>
            <label>libvirt-3f2a1b4c-5d6e-4f70-8192-a3b4c5d6e7f8</label>
            <imagelabel>libvirt-3f2a1b4c-5d6e-4f70-8192-a3b4c5d6e7f8</imagelabel>
          </seclabel>
          <seclabel type='dynamic' model='dac' relabel='yes'>
            <label>+64055:+994</label>
            <imagelabel>+64055:+994</imagelabel>
          </seclabel>
        </domain>
        """

    static let inactiveMinimal = """
        <?xml version="1.0" encoding="UTF-8"?>
        <!-- WARNING: THIS IS AN AUTO-GENERATED FILE. -->
        <domain type='qemu'>
          <name>tiny</name>
          <uuid>0b7e5a2c-1111-2222-3333-444455556666</uuid>
          <memory unit='KiB'>65536</memory>
          <os><type arch='x86_64'>hvm</type></os>
          <devices>
            <disk type='file' device='disk'>
              <driver name='qemu' type='qcow2' cache='none'/>
              <source file='/mnt/vms/tiny.qcow2'/>
              <target dev='vda' bus='virtio'/>
            </disk>
          </devices>
        </domain>
        """

    static let mismatchedTag = """
        <domain type='kvm'>
          <name>broken</name>
          <uuid>0b7e5a2c-1111-2222-3333-444455556666</uuid>
          <devices>
            <disk type='file' device='disk'>
              <source file='/mnt/vms/x.qcow2'/>
            </devices>
        </domain>
        """
}
