/// smbvol's version, written here and nowhere else. `smbvol --version` prints it, and
/// scripts/package reads this line (it must stay a single string literal) for the Debian
/// package's upstream version: `smbvol_<version>-<revision>_amd64.deb`.
let smbvolVersion = "0.1.0"
