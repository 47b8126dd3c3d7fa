package topic

import (
	"strings"
	"sync"
)

// placeTable lists places and the words that name their people or qualify
// things from them: the adjective and the demonym. A term naming a place
// also matches these (Japan matches "Japanese"; Peru "Peruvian" and, through
// word forms, "Peruvians"), unless it says `exact: true` or `demonyms: false`.
//
// One line per place: names, then ':' and the forms, each list
// comma-separated. Every country is here, with the regions and places the
// editorial policy names. Forms that are mostly something else in English
// news are left out: "Pole" (Poland), "Kiwi" (New Zealand), "Turk" stays
// because "turkey" is matched by the country's name anyway.
const placeTable = `
Afghanistan: Afghan
Albania: Albanian
Algeria: Algerian
Andorra: Andorran
Angola: Angolan
Antigua and Barbuda, Antigua: Antiguan
Argentina: Argentine, Argentinian
Armenia: Armenian
Australia: Australian, Aussie
Austria: Austrian
Azerbaijan: Azerbaijani, Azeri
Bahamas, The Bahamas: Bahamian
Bahrain: Bahraini
Bangladesh: Bangladeshi
Barbados: Barbadian, Bajan
Belarus: Belarusian, Belarusan
Belgium: Belgian
Belize: Belizean
Benin: Beninese
Bhutan: Bhutanese
Bolivia: Bolivian
Bosnia and Herzegovina, Bosnia: Bosnian
Botswana: Botswanan, Motswana, Batswana
Brazil: Brazilian
Brunei: Bruneian
Bulgaria: Bulgarian
Burkina Faso: Burkinabe
Burundi: Burundian
Cambodia: Cambodian
Cameroon: Cameroonian
Canada: Canadian
Cape Verde, Cabo Verde: Cape Verdean
Central African Republic: Central African
Chad: Chadian
Chile: Chilean
China, PRC: Chinese
Colombia: Colombian
Comoros: Comorian
Democratic Republic of the Congo, DR Congo, DRC, Congo: Congolese
Costa Rica: Costa Rican
Ivory Coast, Cote d'Ivoire, Côte d'Ivoire: Ivorian
Croatia: Croatian, Croat
Cuba: Cuban
Cyprus: Cypriot
Czech Republic, Czechia: Czech
Denmark: Danish, Dane
Djibouti: Djiboutian
Dominica: Dominican
Dominican Republic: Dominican
East Timor, Timor-Leste: Timorese
Ecuador: Ecuadorian, Ecuadorean
Egypt: Egyptian
El Salvador: Salvadoran, Salvadorean
Equatorial Guinea: Equatoguinean, Equatorial Guinean
Eritrea: Eritrean
Estonia: Estonian
Eswatini, Swaziland: Swazi
Ethiopia: Ethiopian
Fiji: Fijian
Finland: Finnish, Finn
France: French
Gabon: Gabonese
Gambia, The Gambia: Gambian
Georgia: Georgian
Germany: German
Ghana: Ghanaian
Greece: Greek
Grenada: Grenadian
Guatemala: Guatemalan
Guinea: Guinean
Guinea-Bissau: Bissau-Guinean
Guyana: Guyanese
Haiti: Haitian
Honduras: Honduran
Hungary: Hungarian
Iceland: Icelandic, Icelander
India: Indian
Indonesia: Indonesian
Iran: Iranian
Iraq: Iraqi
Ireland: Irish
Israel: Israeli
Italy: Italian
Jamaica: Jamaican
Japan: Japanese
Jordan: Jordanian
Kazakhstan: Kazakh, Kazakhstani
Kenya: Kenyan
Kiribati: I-Kiribati
Kosovo: Kosovar, Kosovan
Kuwait: Kuwaiti
Kyrgyzstan: Kyrgyz
Laos: Laotian, Lao
Latvia: Latvian
Lebanon: Lebanese
Lesotho: Basotho, Mosotho
Liberia: Liberian
Libya: Libyan
Liechtenstein: Liechtensteiner
Lithuania: Lithuanian
Luxembourg: Luxembourgish, Luxembourger
Madagascar: Malagasy
Malawi: Malawian
Malaysia: Malaysian
Maldives: Maldivian
Mali: Malian
Malta: Maltese
Marshall Islands: Marshallese
Mauritania: Mauritanian
Mauritius: Mauritian
Mexico: Mexican
Micronesia: Micronesian
Moldova: Moldovan
Monaco: Monegasque
Mongolia: Mongolian
Montenegro: Montenegrin
Morocco: Moroccan
Mozambique: Mozambican
Myanmar, Burma: Burmese
Namibia: Namibian
Nauru: Nauruan
Nepal: Nepali, Nepalese
Netherlands, The Netherlands, Holland: Dutch
New Zealand: New Zealander
Nicaragua: Nicaraguan
Niger: Nigerien
Nigeria: Nigerian
North Korea, DPRK: North Korean
North Macedonia, Macedonia: Macedonian
Norway: Norwegian
Oman: Omani
Pakistan: Pakistani
Palau: Palauan
Palestine, Palestinian territories: Palestinian
Panama: Panamanian
Papua New Guinea: Papua New Guinean
Paraguay: Paraguayan
Peru: Peruvian
Philippines, The Philippines: Filipino, Filipina, Philippine
Poland: Polish
Portugal: Portuguese
Qatar: Qatari
Romania: Romanian
Russia, Russian Federation: Russian
Rwanda: Rwandan
Saint Kitts and Nevis: Kittitian, Nevisian
Saint Lucia: Saint Lucian
Saint Vincent and the Grenadines: Vincentian
Samoa: Samoan
San Marino: Sammarinese
Sao Tome and Principe, São Tomé and Príncipe: Santomean
Saudi Arabia: Saudi
Senegal: Senegalese
Serbia: Serbian, Serb
Seychelles: Seychellois
Sierra Leone: Sierra Leonean
Singapore: Singaporean
Slovakia: Slovak, Slovakian
Slovenia: Slovenian, Slovene
Solomon Islands: Solomon Islander
Somalia: Somali
South Africa: South African
South Korea, ROK: South Korean
Korea: Korean
South Sudan: South Sudanese
Spain: Spanish, Spaniard
Sri Lanka: Sri Lankan
Sudan: Sudanese
Suriname: Surinamese
Sweden: Swedish, Swede
Switzerland: Swiss
Syria: Syrian
Taiwan, Republic of China: Taiwanese
Tajikistan: Tajik
Tanzania: Tanzanian
Thailand: Thai
Togo: Togolese
Tonga: Tongan
Trinidad and Tobago, Trinidad: Trinidadian, Tobagonian
Tunisia: Tunisian
Turkey, Türkiye, Turkiye: Turkish, Turk
Turkmenistan: Turkmen
Tuvalu: Tuvaluan
Uganda: Ugandan
Ukraine: Ukrainian
United Arab Emirates, UAE, Emirates: Emirati
United Kingdom, UK, U.K., Britain, Great Britain: British, Briton
United States, United States of America, US, U.S., USA, U.S.A., America: American
Uruguay: Uruguayan
Uzbekistan: Uzbek
Vanuatu: Vanuatuan, Ni-Vanuatu
Venezuela: Venezuelan
Vietnam, Viet Nam: Vietnamese
Yemen: Yemeni
Zambia: Zambian
Zimbabwe: Zimbabwean
England: English
Scotland: Scottish, Scot
Wales: Welsh
Northern Ireland: Northern Irish
Greenland: Greenlandic, Greenlander
Puerto Rico: Puerto Rican
Guam: Guamanian
Hong Kong: Hongkonger, Hong Konger
Macau, Macao: Macanese
Tibet: Tibetan
Okinawa: Okinawan
Kashmir: Kashmiri
Crimea: Crimean
Chechnya: Chechen
Siberia: Siberian
Gaza: Gazan
Western Sahara: Sahrawi
Kurdistan: Kurdish, Kurd
Catalonia: Catalan
Asia: Asian
East Asia: East Asian
Southeast Asia, South-East Asia: Southeast Asian, South-East Asian
South Asia: South Asian
Central Asia: Central Asian
Pacific Islands: Pacific Islander
Polynesia: Polynesian
Melanesia: Melanesian
Oceania: Oceanian
Europe: European
Eastern Europe: Eastern European
Scandinavia: Scandinavian
Balkans: Balkan
Baltics, Baltic states: Baltic
Africa: African
North Africa: North African
West Africa: West African
East Africa: East African
Sub-Saharan Africa: Sub-Saharan
Middle East: Middle Eastern
Latin America: Latin American
Central America: Central American
South America: South American
North America: North American
Andes: Andean
Amazon: Amazonian
`

// places is placeTable read for lookups.
type places struct {
	forms    map[string][]string // "south korea" → ["South Korean"]
	maxWords int                 // the longest place name, in words
}

// placeForms maps a place name, as its case-folded words joined by single
// spaces ("south korea"), to its forms as written in placeTable. It is built
// once and never changed.
var placeForms = sync.OnceValue(func() places {
	m := map[string][]string{}
	longest := 0
	for line := range strings.SplitSeq(placeTable, "\n") {
		names, forms, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var fs []string
		for f := range strings.SplitSeq(forms, ",") {
			fs = append(fs, strings.TrimSpace(f))
		}
		for name := range strings.SplitSeq(names, ",") {
			key := placeKey(name)
			m[key] = append(m[key], fs...)
			longest = max(longest, strings.Count(key, " ")+1)
		}
	}
	return places{forms: m, maxWords: longest}
})

// placeKey is the lookup key of a place name: its case-folded words joined
// by single spaces, however it is punctuated ("U.S." and "u s" agree).
func placeKey(name string) string {
	lower, ws := words(normalizeText(name), 0, nil, nil)
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = string(lower[w.lstart:w.lend])
	}
	return strings.Join(parts, " ")
}
