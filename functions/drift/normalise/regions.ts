// Azure regions: display name -> programmatic name. ARM accepts either on PUT and returns the
// programmatic name on GET; anything not in the table falls back to lower case without spaces.
const REGIONS: ReadonlyArray<readonly [string, string]> = [
  ['East US', 'eastus'], ['East US 2', 'eastus2'], ['South Central US', 'southcentralus'], ['West US 2', 'westus2'],
  ['West US 3', 'westus3'], ['Australia East', 'australiaeast'], ['Southeast Asia', 'southeastasia'], ['North Europe', 'northeurope'],
  ['Sweden Central', 'swedencentral'], ['UK South', 'uksouth'], ['West Europe', 'westeurope'], ['Central US', 'centralus'],
  ['South Africa North', 'southafricanorth'], ['Central India', 'centralindia'], ['East Asia', 'eastasia'], ['Japan East', 'japaneast'],
  ['Korea Central', 'koreacentral'], ['Canada Central', 'canadacentral'], ['France Central', 'francecentral'],
  ['Germany West Central', 'germanywestcentral'], ['Italy North', 'italynorth'], ['Norway East', 'norwayeast'],
  ['Poland Central', 'polandcentral'], ['Spain Central', 'spaincentral'], ['Switzerland North', 'switzerlandnorth'],
  ['Mexico Central', 'mexicocentral'], ['UAE North', 'uaenorth'], ['Brazil South', 'brazilsouth'], ['Israel Central', 'israelcentral'],
  ['Qatar Central', 'qatarcentral'], ['Central US EUAP', 'centraluseuap'], ['East US 2 EUAP', 'eastus2euap'],
  ['North Central US', 'northcentralus'], ['West US', 'westus'], ['Japan West', 'japanwest'], ['Jio India West', 'jioindiawest'],
  ['West Central US', 'westcentralus'], ['South Africa West', 'southafricawest'], ['Australia Central', 'australiacentral'],
  ['Australia Central 2', 'australiacentral2'], ['Australia Southeast', 'australiasoutheast'], ['Jio India Central', 'jioindiacentral'],
  ['Korea South', 'koreasouth'], ['South India', 'southindia'], ['West India', 'westindia'], ['Canada East', 'canadaeast'],
  ['France South', 'francesouth'], ['Germany North', 'germanynorth'], ['Norway West', 'norwaywest'],
  ['Switzerland West', 'switzerlandwest'], ['UK West', 'ukwest'], ['UAE Central', 'uaecentral'], ['Brazil Southeast', 'brazilsoutheast'],
  ['New Zealand North', 'newzealandnorth'], ['Indonesia Central', 'indonesiacentral'], ['Malaysia West', 'malaysiawest'],
  ['Chile Central', 'chilecentral'], ['Austria East', 'austriaeast'], ['Belgium Central', 'belgiumcentral'],
  ['Denmark East', 'denmarkeast'], ['Taiwan North', 'taiwannorth'], ['Global', 'global'],
];

const BY_LOWER: ReadonlyMap<string, string> = new Map(REGIONS.flatMap(([display, name]) => [[display.toLowerCase(), name], [name, name]]));

/** The programmatic name of a location given either form. */
export function canonicalLocation(value: string): string {
  const lower = value.toLowerCase();
  return BY_LOWER.get(lower) ?? lower.replaceAll(' ', '');
}
