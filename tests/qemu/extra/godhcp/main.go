// Minimal Go DHCPv4 client (insomniacslk/dhcp nclient4, Debian's golang-github-insomniacslk-dhcp-dev):
// asks for a lease on the interface given and logs the ACK as the library summarises it.
package main

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
)

func main() {
	iface := os.Args[1]
	c, err := nclient4.New(iface)
	if err != nil {
		log.Fatalf("nclient4.New: %v", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lease, err := c.Request(ctx, dhcpv4.WithRequestedOptions(dhcpv4.OptionClasslessStaticRoute))
	if err != nil {
		log.Fatalf("DHCP request failed: %v", err)
	}
	log.Printf("got lease: %s", lease.ACK.Summary())
	// For the shell that applies it: address and router only (option 121 is not used).
	env := "IP=" + lease.ACK.YourIPAddr.String() + "\nROUTER=" + dhcpv4.GetIP(dhcpv4.OptionRouter, lease.ACK.Options).String() + "\n"
	if err := os.WriteFile("/tmp/lease.env", []byte(env), 0o644); err != nil {
		log.Fatalf("write lease: %v", err)
	}
}
